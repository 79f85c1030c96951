import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../src/catalogue/table.js';
import { ADAPTER_TABLES } from '../src/catalogue/adapter-tables.js';
import { TABLES as CORE_TABLES } from '../src/catalogue/tables.js';
import { freshDatabase } from './helpers/database.js';
import { freshPostgresUrl } from './helpers/postgres.js';

// The table declarations (src/catalogue/tables.ts, adapter-tables.ts) against the schemas the store
// creates, SQLite's (sql/ and sql/migrations/) and PostgreSQL's (sql/postgres/), each
// read back from the database: every declared column exists, every status list is the
// one its CHECK constraint allows, and NULL is allowed exactly where a declaration
// decodes it. The status lists are written once in TypeScript; this is what ties the
// schema's copies to them.

/** The core tables and the framework adapters'. */
const TABLES = [...CORE_TABLES, ...ADAPTER_TABLES] as const;

/** Columns a declaration leaves out on purpose. */
const UNDECLARED: Readonly<Record<string, readonly string[]>> = {
  // An event is read within its session: the session's id is the caller's.
  session_events: ['session_id'],
  // Read in SQL (to find a checkpoint's values, to filter a list), never returned.
  lg_checkpoints: ['channel_versions', 'metadata_json', 'created_at'],
  // A claim's lease length: what a heartbeat that names none extends by, never returned.
  tasks: ['lease_ms'],
};

/** Columns PostgreSQL's tables add: SQLite's implicit rowid, which keysets order on. */
const PG_ROWID = 'rowid';

/**
 * Columns SQL lets be NULL though the declaration reads no NULL: each has a DEFAULT the
 * store's inserts rely on and no statement of the store writes NULL into it.
 */
const NOT_NULL_BY_USE: Readonly<Record<string, readonly string[]>> = {
  tasks: ['retry_count', 'max_retries', 'max_execution_timeout_seconds', 'dependencies'],
  // The seed's DDL: `sync_status TEXT DEFAULT 'pending'`, without NOT NULL.
  document_index: ['sync_status'],
};

/** One table as a database holds it: its columns (whether each allows NULL) and each `column IN (…)` CHECK. */
interface TableSchema {
  readonly nullable: ReadonlyMap<string, boolean>;
  readonly checks: ReadonlyMap<string, readonly string[]>;
}

const oneOf = (spec: ColumnSpec): readonly string[] | undefined => (typeof spec === 'object' && 'oneOf' in spec ? spec.oneOf : undefined);
const nullable = (spec: ColumnSpec): boolean =>
  typeof spec === 'string' ? spec.endsWith('?') : 'oneOf' in spec ? spec.nullable === true : spec.kind.endsWith('?');
const fieldsOf = (table: (typeof TABLES)[number]): [string, ColumnSpec][] => Object.entries(table.spec as Record<string, ColumnSpec>);
const columnOf = (table: (typeof TABLES)[number], field: string): string => table.column(field as never);

/** SQLite keeps each table's DDL as written: `CHECK (status IN ('a', 'b'))`. */
function sqliteSchema(): Map<string, TableSchema> {
  const db = freshDatabase();
  const sqlOf = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
  const info = db.prepare('SELECT name, "notnull", pk FROM pragma_table_info(?)');
  return new Map(
    TABLES.map((table) => {
      const columns = info.all(table.name) as { name: string; notnull: number; pk: number }[];
      const checks = [...(sqlOf.get(table.name) as string).matchAll(/CHECK\s*\(\s*(\w+)\s+IN\s*\(\s*('[^)]*)\)\s*\)/gi)].map(
        (m) => [m[1]!, m[2]!.split(',').map((value) => value.trim().replace(/^'(.*)'$/, '$1'))] as const,
      );
      return [table.name, { nullable: new Map(columns.map((c) => [c.name, c.notnull === 0 && c.pk === 0])), checks: new Map(checks) }];
    }),
  );
}

/** PostgreSQL prints a CHECK as it parsed it: `CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))`. */
async function postgresSchema(): Promise<Map<string, TableSchema>> {
  const client = new pg.Client({ connectionString: await freshPostgresUrl() });
  await client.connect();
  let columns, constraints;
  try {
    columns = await client.query<{ table_name: string; column_name: string; is_nullable: 'YES' | 'NO' }>(
      'SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()',
    );
    constraints = await client.query<{ table_name: string; definition: string }>(
      "SELECT conrelid::regclass::text AS table_name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE contype = 'c'",
    );
  } finally {
    await client.end();
  }
  return new Map(
    TABLES.map((table) => {
      const checks = constraints.rows
        .filter((c) => c.table_name === table.name)
        .flatMap((c) => {
          const m = /^CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$/.exec(c.definition);
          return m === null ? [] : [[m[1]!, [...m[2]!.matchAll(/'([^']*)'::text/g)].map((v) => v[1]!)] as const];
        });
      const own = columns.rows.filter((c) => c.table_name === table.name && c.column_name !== PG_ROWID);
      return [table.name, { nullable: new Map(own.map((c) => [c.column_name, c.is_nullable === 'YES'])), checks: new Map(checks) }];
    }),
  );
}

const ENGINES = [
  ['sqlite', async () => Promise.resolve(sqliteSchema())],
  ['postgres', postgresSchema],
] as const;

describe.each(ENGINES)('table declarations against the %s schema', (_, read) => {
  let schema: Map<string, TableSchema>;
  beforeAll(async () => {
    schema = await read();
  });

  it.each(TABLES.map((table) => [table.name, table] as const))('%s: the declared columns are the table’s', (name, table) => {
    const actual = [...schema.get(name)!.nullable.keys()];
    const declared = table.columns.split(', ');
    expect(actual.length).toBeGreaterThan(0);
    expect(declared.filter((column) => !actual.includes(column))).toEqual([]);
    expect(actual.filter((column) => !declared.includes(column)).sort()).toEqual([...(UNDECLARED[name] ?? [])].sort());
    expect(table.width).toBe(declared.length);
  });

  it('has a status list for every CHECK (column IN (…text…)) of the declared tables, and only those', () => {
    const checked = TABLES.flatMap((table) => [...schema.get(table.name)!.checks.keys()].map((column) => `${table.name}.${column}`));
    const declared = TABLES.flatMap((table) =>
      fieldsOf(table).flatMap(([field, spec]) => (oneOf(spec) === undefined ? [] : [`${table.name}.${columnOf(table, field)}`])),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.sort()).toEqual(checked.sort());
  });

  it.each(TABLES.map((table) => [table.name, table] as const))('%s: each status list is what its CHECK allows, in order', (name, table) => {
    const mismatched = fieldsOf(table).flatMap(([field, spec]) => {
      const values = oneOf(spec);
      const allowed = schema.get(name)!.checks.get(columnOf(table, field));
      return values === undefined || JSON.stringify(allowed) === JSON.stringify(values)
        ? []
        : [`${columnOf(table, field)}: the declaration lists ${values.join(', ')}; the CHECK allows ${allowed?.join(', ') ?? 'no list'}`];
    });
    expect(mismatched).toEqual([]);
  });

  it.each(TABLES.map((table) => [table.name, table] as const))('%s: NULL is allowed where the declaration reads it', (name, table) => {
    const columns = schema.get(name)!.nullable;
    const mismatched: string[] = [];
    for (const [field, spec] of fieldsOf(table)) {
      const column = columnOf(table, field);
      const sqlNullable = columns.get(column)!;
      if (sqlNullable !== nullable(spec) && !(NOT_NULL_BY_USE[name] ?? []).includes(column)) {
        mismatched.push(`${column}: SQL ${sqlNullable ? 'allows' : 'refuses'} NULL, the declaration ${nullable(spec) ? 'reads' : 'does not read'} it`);
      }
    }
    expect(mismatched).toEqual([]);
  });
});
