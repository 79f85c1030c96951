import type { PoolClient } from 'pg';
import { StoreError } from '../api/errors.js';
import type { Connection } from '../sqlite/connection.js';
import type { ColumnType, CopyTable } from './copy-tables.js';

// The copier's content check: after a table is copied, both engines' rows are read back in
// the same key order and compared row for row, column for column, each column by what it
// holds (JSON by value, timestamps by instant, vectors as float32), so a value that did not
// arrive as it left is found and named, and the copy is rolled back.

/** Rows fetched from PostgreSQL at a time. */
const FETCH_ROWS = 1000;

/** The table's rows in key order, as SQLite orders them (BINARY text, numbers before text). */
export function sqliteOrder(table: CopyTable): string {
  return table.key.join(', ');
}

/** The same order on PostgreSQL: text by code point, and a JSON scalar as SQLite's ANY orders it. */
export function postgresOrder(table: CopyTable): string {
  const types = new Map(table.columns);
  return table.key
    .map((column) => {
      const type = types.get(column);
      if (type === 'text') return `${column} COLLATE "C"`;
      if (type === 'scalar') {
        return `jsonb_typeof(${column}) = 'string', CASE WHEN jsonb_typeof(${column}) = 'number' THEN (${column})::numeric END, ${column} #>> '{}' COLLATE "C"`;
      }
      return column;
    })
    .join(', ');
}

/** Deep equality of JSON values, object keys in any order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function floats(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** Whether the value PostgreSQL holds is the value SQLite held, for a column of this type. */
export function sameValue(type: ColumnType, sqlite: unknown, postgres: unknown): boolean {
  if (sqlite === null || postgres === null) return sqlite === postgres;
  switch (type) {
    case 'json':
      return jsonEqual(JSON.parse(sqlite as string), JSON.parse(postgres as string));
    case 'scalar':
      return JSON.parse(postgres as string) === sqlite;
    case 'timestamp': {
      const at = Date.parse(sqlite as string);
      return !Number.isNaN(at) && at === Date.parse(postgres as string);
    }
    case 'boolean':
      return (sqlite !== 0) === postgres;
    case 'bytes':
      return Buffer.compare(sqlite as Uint8Array, postgres as Uint8Array) === 0;
    case 'floats': {
      const stored = floats(sqlite as Uint8Array);
      const copied = postgres as number[];
      return stored.length === copied.length && copied.every((x, i) => Math.fround(x) === stored[i]);
    }
    default:
      return sqlite === postgres;
  }
}

/** A value for a message: short, bytes in hex. */
function describe(value: unknown): string {
  const text = value instanceof Uint8Array ? `0x${Buffer.from(value).toString('hex')}` : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Reads a copied table back on both sides, in key order, and throws INVALID_STATE naming
 * the first row and column that differ, or the side with rows the other lacks. Runs inside
 * the copy's transactions (SQLite's read snapshot, PostgreSQL's write transaction).
 */
export async function checkCopiedTable(source: Connection, client: PoolClient, table: CopyTable): Promise<void> {
  const names = table.columns.map(([name]) => name);
  const rows = source.prepare(`SELECT ${names.join(', ')} FROM ${table.name} ORDER BY ${sqliteOrder(table)}`).raw().iterate() as Iterator<unknown[]>;
  const cursor = `abathur_check_${table.name}`;
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${names.join(', ')} FROM ${table.name} ORDER BY ${postgresOrder(table)}`);
  const keyAt = table.key.map((column) => names.indexOf(column));
  const where = (row: readonly unknown[]): string => table.key.map((column, i) => `${column} ${describe(row[keyAt[i]!])}`).join(', ');
  const differs = (message: string): StoreError =>
    new StoreError('INVALID_STATE', `${table.name}: ${message}; the copy was checked row for row and rolled back: nothing was copied`);
  try {
    let n = 0;
    for (;;) {
      const { rows: copied } = await client.query<unknown[]>({ text: `FETCH ${FETCH_ROWS} FROM ${cursor}`, rowMode: 'array' });
      for (const postgres of copied) {
        const next = rows.next();
        if (next.done === true) throw differs(`PostgreSQL holds a row SQLite does not (${where(postgres)}) after ${n} rows`);
        const sqlite = next.value;
        table.columns.forEach(([column, type], i) => {
          if (!sameValue(type, sqlite[i], postgres[i])) {
            throw differs(`the row ${where(sqlite)} holds ${describe(postgres[i])} in ${column} where SQLite holds ${describe(sqlite[i])}`);
          }
        });
        n++;
      }
      if (copied.length < FETCH_ROWS) break;
    }
    const extra = rows.next();
    if (extra.done !== true) throw differs(`SQLite holds a row PostgreSQL does not (${where(extra.value)}) after ${n} rows`);
  } finally {
    rows.return?.();
    await client.query(`CLOSE ${cursor}`).catch(() => {});
  }
}
