import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../src/catalogue/table.js';
import { TABLES } from '../src/catalogue/tables.js';
import { freshDatabase } from './helpers/database.js';

// The table declarations (src/catalogue/tables.ts) against the schema the store
// creates: every declared column exists, every status list is the one its CHECK
// constraint allows, and NULL is allowed exactly where a declaration decodes it.

/** Columns a declaration leaves out on purpose. */
const UNDECLARED: Readonly<Record<string, readonly string[]>> = {
  // An event is read within its session: the session's id is the caller's.
  session_events: ['session_id'],
};

/**
 * Columns SQL lets be NULL though the declaration reads no NULL: each has a DEFAULT the
 * store's inserts rely on and no statement of the store writes NULL into it.
 */
const NOT_NULL_BY_USE: Readonly<Record<string, readonly string[]>> = {
  tasks: ['retry_count', 'max_retries', 'max_execution_timeout_seconds', 'dependencies'],
  // The seed's DDL: `sync_status TEXT DEFAULT 'pending'`, without NOT NULL.
  document_index: ['sync_status'],
};

interface ColumnInfo {
  name: string;
  notnull: number;
  pk: number;
}

const oneOf = (spec: ColumnSpec): readonly string[] | undefined => (typeof spec === 'object' && 'oneOf' in spec ? spec.oneOf : undefined);
const nullable = (spec: ColumnSpec): boolean =>
  typeof spec === 'string' ? spec.endsWith('?') : 'oneOf' in spec ? spec.nullable === true : spec.kind.endsWith('?');

describe('table declarations', () => {
  const db = freshDatabase();
  const sqlOf = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
  const info = db.prepare('SELECT name, "notnull", pk FROM pragma_table_info(?)');

  it.each(TABLES.map((table) => [table.name, table] as const))('%s: the declared columns are the table’s', (name, table) => {
    const actual = (info.all(name) as ColumnInfo[]).map((c) => c.name);
    const declared = table.columns.split(', ');
    expect(declared.filter((column) => !actual.includes(column))).toEqual([]);
    expect(actual.filter((column) => !declared.includes(column))).toEqual(UNDECLARED[name] ?? []);
    expect(table.width).toBe(declared.length);
  });

  const statusColumns = TABLES.flatMap((table) =>
    Object.entries(table.spec as Record<string, ColumnSpec>).flatMap(([field, spec]) => {
      const values = oneOf(spec);
      return values === undefined ? [] : [[`${table.name}.${table.column(field as never)}`, table.name, table.column(field as never), values] as const];
    }),
  );

  it('has a status list for every CHECK (column IN (…text…)) of the declared tables', () => {
    const checked = TABLES.flatMap((table) =>
      [...(sqlOf.get(table.name) as string).matchAll(/CHECK\s*\(\s*(\w+)\s+IN\s*\(\s*'/gi)].map((m) => `${table.name}.${m[1]}`),
    );
    expect(checked.length).toBeGreaterThan(0);
    expect(statusColumns.map(([label]) => label).sort()).toEqual(checked.sort());
  });

  it.each(statusColumns)('%s: its status list is what its CHECK allows', (_, table, column, values) => {
    const sql = sqlOf.get(table) as string;
    const check = new RegExp(`CHECK\\s*\\(\\s*${column}\\s+IN\\s*\\(([^)]*)\\)\\s*\\)`, 'i').exec(sql);
    expect(check, `${table}.${column} has a CHECK (${column} IN (…))`).not.toBeNull();
    const allowed = check![1]!.split(',').map((value) => value.trim().replace(/^'(.*)'$/, '$1'));
    expect(allowed).toEqual([...values]);
  });

  it.each(TABLES.map((table) => [table.name, table] as const))('%s: NULL is allowed where the declaration reads it', (name, table) => {
    const columns = new Map((info.all(name) as ColumnInfo[]).map((c) => [c.name, c]));
    const mismatched: string[] = [];
    for (const [field, spec] of Object.entries(table.spec as Record<string, ColumnSpec>)) {
      const column = table.column(field as never);
      const sqlNullable = columns.get(column)!.notnull === 0 && columns.get(column)!.pk === 0;
      if (sqlNullable !== nullable(spec) && !(NOT_NULL_BY_USE[name] ?? []).includes(column)) {
        mismatched.push(`${column}: SQL ${sqlNullable ? 'allows' : 'refuses'} NULL, the declaration ${nullable(spec) ? 'reads' : 'does not read'} it`);
      }
    }
    expect(mismatched).toEqual([]);
  });
});
