import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enableWal, type Connection } from './connection.js';
import { StoreError } from '../api/errors.js';
import { migrationsDirectory, sqlDirectory } from '../paths.js';

// The schema is a version-1 baseline (sql/001_memory_tables.sql, 002_core_tables.sql,
// 003_indexes.sql: never edited again) and then one migration file per later version,
// sql/migrations/NNN_<name>.sql, where NNN is the `user_version` it produces. A new
// database gets the baseline and then every migration, exactly as an old one does, so
// there is one path to each version and it is the one every upgrade takes.

export interface SchemaFile {
  name: string;
  sql: string;
}

export interface Migration extends SchemaFile {
  /** The `user_version` the database has once this migration committed. */
  version: number;
}

const BASELINE_VERSION = 1;
const MIGRATION_NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

let cachedBaseline: SchemaFile[] | undefined;
let cachedMigrations: Migration[] | undefined;

/** The version-1 DDL files of sql/, in execution order: memory tables, core tables, indexes. */
export function schemaFiles(): SchemaFile[] {
  cachedBaseline ??= readdirSync(sqlDirectory)
    .filter((name) => /^\d+_.+\.sql$/.test(name))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(sqlDirectory, name), 'utf8') }));
  return cachedBaseline;
}

/**
 * The migrations of sql/migrations/, in version order. Their numbers must run 002, 003, …
 * with no gap and no repeat: a missing file would leave a database at a version the code
 * does not describe, so a package without one refuses to open anything.
 */
export function migrations(): Migration[] {
  if (cachedMigrations !== undefined) return cachedMigrations;
  const files = readdirSync(migrationsDirectory)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  const found = files.map((name) => {
    const match = MIGRATION_NAME.exec(name);
    if (match === null) throw new Error(`migration file ${name} is not named NNN_lowercase_name.sql`);
    return { name, version: Number(match[1]), sql: readFileSync(join(migrationsDirectory, name), 'utf8') };
  });
  found.forEach((migration, i) => {
    const expected = BASELINE_VERSION + 1 + i;
    if (migration.version !== expected) {
      throw new Error(`migration ${migration.name} should be numbered ${String(expected).padStart(3, '0')}: versions run 002, 003, … without gaps`);
    }
  });
  cachedMigrations = found;
  return found;
}

/** The `user_version` a database has once this library's schema is applied: the last migration's. */
export const SCHEMA_VERSION: number = BASELINE_VERSION + migrations().length;

export interface AppliedMigration {
  name: string;
  version: number;
  /** Wall time of its transaction, in milliseconds. */
  ms: number;
}

export interface ApplyResult {
  /** True when this call created the schema; false when the file already had one. */
  applied: boolean;
  /** The version the file had before this call (0 for a new file). */
  from: number;
  version: number;
  /** Migrations this call ran, in order (for a new file: every one, after the baseline). */
  migrated: AppliedMigration[];
}

/**
 * Brings a database to {@link SCHEMA_VERSION}: WAL on; for a new file the version-1 DDL
 * and every migration in one transaction; for an older file each migration it lacks, in
 * order, each in its own transaction that also records its version in `user_version`. A crash mid-migration
 * leaves the file at the previous version, whole, and the next open migrates again. A
 * database already at this version is left as it is. A newer version, or a database that
 * holds someone else's tables, is refused before anything is written.
 */
export function applySchema(db: Connection): ApplyResult {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new StoreError(
      'INVALID_STATE',
      `database ${db.name} has schema version ${from}, newer than this library's ${SCHEMA_VERSION}; upgrade abathur-store to open it`,
    );
  }
  if (from === 0) {
    const objects = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
    if (objects > 0) {
      throw new StoreError(
        'INVALID_STATE',
        `database ${db.name} already holds ${objects} tables or indexes but no abathur-store schema; refusing to change it`,
      );
    }
  }
  enableWal(db);
  const migrated: AppliedMigration[] = [];
  const run = (migration: Migration): void => {
    const started = performance.now();
    db.exec(migration.sql);
    db.pragma(`user_version = ${migration.version}`);
    migrated.push({ name: migration.name, version: migration.version, ms: performance.now() - started });
  };
  if (from === 0) {
    // A new file is made whole or not at all: the baseline and every migration in one transaction.
    db.transaction(() => {
      for (const file of schemaFiles()) db.exec(file.sql);
      db.pragma(`user_version = ${BASELINE_VERSION}`);
      for (const migration of migrations()) run(migration);
    }).immediate();
  } else {
    for (const migration of migrations()) {
      if (migration.version > from) db.transaction(() => run(migration)).immediate();
    }
  }
  return { applied: from === 0, from, version: SCHEMA_VERSION, migrated };
}
