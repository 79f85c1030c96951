import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enableWal, type Connection } from './connection.js';
import { StoreError } from '../api/errors.js';
import { sqlDirectory } from '../paths.js';

/** The `user_version` a database has once this library's schema is applied. */
export const SCHEMA_VERSION = 1;

export interface SchemaFile {
  name: string;
  sql: string;
}

let cachedFiles: SchemaFile[] | undefined;

/** The DDL files of sql/, in execution order: memory tables, core tables, indexes. */
export function schemaFiles(): SchemaFile[] {
  cachedFiles ??= readdirSync(sqlDirectory)
    .filter((name) => /^\d+_.+\.sql$/.test(name))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(sqlDirectory, name), 'utf8') }));
  return cachedFiles;
}

export interface ApplyResult {
  /** True when this call created the schema; false when it was already there. */
  applied: boolean;
  version: number;
}

/**
 * Brings a database to {@link SCHEMA_VERSION}: WAL on, then the three DDL files in one
 * transaction, recorded in `user_version`. A database already at this version is left
 * as it is. A newer version, or a database that holds someone else's tables, is refused
 * before anything is written.
 */
export function applySchema(db: Connection): ApplyResult {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'INVALID_STATE',
      `database ${db.name} has schema version ${version}, newer than this library's ${SCHEMA_VERSION}; upgrade abathur-store to open it`,
    );
  }
  if (version === SCHEMA_VERSION) {
    enableWal(db);
    return { applied: false, version };
  }
  const objects = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
  if (objects > 0) {
    throw new StoreError(
      'INVALID_STATE',
      `database ${db.name} already holds ${objects} tables or indexes but no abathur-store schema; refusing to change it`,
    );
  }
  enableWal(db);
  db.transaction(() => {
    for (const file of schemaFiles()) db.exec(file.sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  return { applied: true, version: SCHEMA_VERSION };
}
