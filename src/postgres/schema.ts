import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { StoreError } from '../api/errors.js';
import { sqlDirectory } from '../paths.js';

/** The PostgreSQL migration files: sql/postgres/NNN_name.sql, NNN the version each produces. */
export const postgresSqlDirectory = join(sqlDirectory, 'postgres');

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

let cached: PgMigration[] | undefined;

export function postgresMigrations(): PgMigration[] {
  cached ??= readdirSync(postgresSqlDirectory)
    .filter((name) => /^\d{3}_.+\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 3)), name, sql: readFileSync(join(postgresSqlDirectory, name), 'utf8') }));
  return cached;
}

/** The schema version a database has once every migration of this library is applied. */
export function postgresSchemaVersion(): number {
  return postgresMigrations().at(-1)?.version ?? 0;
}

export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The advisory lock every store takes to migrate a schema: one key per schema name. */
const LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('abathur-store migrate ' || $1, 0))";

export interface MigrateResult {
  /** Versions applied by this call, in order (empty when the schema was current). */
  applied: number[];
  version: number;
}

/**
 * Brings the store's schema to this library's version: each pending migration in its own
 * transaction, under an advisory lock, recorded in `schema_version`. Hosts that start
 * together wait for each other on the lock, and each migration is applied once. A schema
 * newer than this library, or one that holds tables but no `schema_version`, is refused
 * before anything is changed. `migrations` (tests: an older release's) defaults to this
 * library's, in version order; versions need not be consecutive.
 */
export async function migrate(client: ClientBase, schema: string, migrations: readonly PgMigration[] = postgresMigrations()): Promise<MigrateResult> {
  const latest = migrations.at(-1)?.version ?? 0;
  const q = quoteIdentifier(schema);
  // The usual case, without the lock: the schema is current already.
  const { rows: found } = await client.query<{ table: string | null }>('SELECT to_regclass($1)::text AS "table"', [`${q}.schema_version`]);
  if (found[0]?.table != null) {
    const { rows } = await client.query<{ version: number }>(`SELECT coalesce(max(version), 0)::int AS version FROM ${q}.schema_version`);
    if (rows[0]!.version === latest) return { applied: [], version: latest };
  }
  const applied: number[] = [];
  let version = 0;
  for (const migration of migrations) {
    await client.query('BEGIN');
    try {
      await client.query(LOCK, [schema]);
      // Only under the lock: concurrent CREATEs collide in the catalogue. Only when
      // missing: CREATE SCHEMA needs the CREATE privilege on the database even with IF NOT
      // EXISTS, which a store's login may not have once its schema is there.
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${q}`);
      await client.query(`SET LOCAL search_path TO ${q}`);
      version = await currentVersion(client, schema);
      if (version > latest) {
        throw new StoreError(
          'INVALID_STATE',
          `PostgreSQL schema "${schema}" is at version ${version}, newer than this library's ${latest}; upgrade abathur-store to open it`,
        );
      }
      if (version >= migration.version) {
        await client.query('ROLLBACK');
        continue;
      }
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      await client.query('COMMIT');
      applied.push(migration.version);
      version = migration.version;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }
  return { applied, version };
}

/**
 * The schema's version, creating `schema_version` in an empty schema. A schema that
 * holds other tables and no `schema_version` belongs to someone else.
 */
async function currentVersion(client: ClientBase, schema: string): Promise<number> {
  const { rows } = await client.query<{ tables: number; versioned: boolean }>(
    "SELECT count(*)::int AS tables, bool_or(c.relname = 'schema_version') AS versioned FROM pg_class c " +
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')",
    [schema],
  );
  const { tables, versioned } = rows[0]!;
  if (versioned !== true) {
    if (tables > 0) {
      throw new StoreError(
        'INVALID_STATE',
        `PostgreSQL schema "${schema}" already holds ${tables} tables but no abathur-store schema_version; refusing to change it (choose another options.schema)`,
      );
    }
    await client.query(
      'CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, ' +
        'applied_at timestamptz(3) NOT NULL DEFAULT clock_timestamp())',
    );
    return 0;
  }
  const { rows: versions } = await client.query<{ version: number }>('SELECT coalesce(max(version), 0)::int AS version FROM schema_version');
  return versions[0]!.version;
}
