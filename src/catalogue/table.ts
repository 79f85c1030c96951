import type { JsonObject, JsonValue } from '../api/types.js';

// A table declared once: its columns in order, how each converts between SQLite and
// the public row (JSON text, 0/1 booleans, timestamps, blobs), and each status union.
// From the declaration come the SELECT column list, the row decoder and the row type;
// nothing else in the catalogue reads a row by position.

/** How a column converts. A trailing `?` allows NULL. */
type Kind =
  | 'text'
  | 'integer'
  | 'real'
  | 'boolean'
  | 'time'
  | 'json'
  | 'object'
  | 'array'
  | 'idList'
  | 'embedding'
  | 'bytes'
  | 'blob';

export type ColumnKind = Kind | `${Kind}?`;

/** A column whose values are one of a closed list (a status, a type). */
export interface EnumColumn<V extends readonly string[] = readonly string[]> {
  readonly oneOf: V;
  readonly nullable?: boolean;
  readonly column?: string;
}

/** A column under another name than its field's snake_case. */
export interface NamedColumn<K extends ColumnKind = ColumnKind> {
  readonly kind: K;
  readonly column: string;
}

export type ColumnSpec = ColumnKind | EnumColumn | NamedColumn;
export type ColumnsSpec = Readonly<Record<string, ColumnSpec>>;

interface KindTypes {
  text: string;
  integer: number;
  real: number;
  boolean: boolean;
  /** ISO-8601 UTC with milliseconds, as the schema stores it. */
  time: string;
  json: JsonValue;
  object: JsonObject;
  array: JsonValue[];
  /** A JSON array of ids; NULL reads as none. */
  idList: string[];
  /** Packed float32 (or PostgreSQL's real[]), copied into an aligned Float32Array. */
  embedding: Float32Array;
  /** A BLOB or bytea (a serializer's output), as a plain Uint8Array. */
  bytes: Uint8Array;
  /**
   * A SQLite BLOB as better-sqlite3 returns it, uncopied: a Buffer of its own per row, so
   * nothing is shared. For the SQLite catalogue's own statements only, where a copy would
   * cost a second memcpy of every checkpoint, write and vector read.
   */
  blob: Uint8Array;
}

type KindType<K> = K extends `${infer B extends Kind}?` ? KindTypes[B] | null : K extends Kind ? KindTypes[K] : never;

/** The TypeScript type of one column's decoded value. */
export type ColumnType<S> = S extends EnumColumn<infer V>
  ? S['nullable'] extends true
    ? V[number] | null
    : V[number]
  : S extends NamedColumn<infer K>
    ? KindType<K>
    : KindType<S>;

/** The decoded row of a table. */
export type RowOf<T extends { readonly spec: ColumnsSpec }> = { -readonly [F in keyof T['spec']]: ColumnType<T['spec'][F]> };

/** A raw row: the column values in order, as better-sqlite3's `raw` mode returns them. */
export type RawRow = readonly unknown[];

const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function describeColumn(field: string, spec: ColumnSpec): { column: string; kind: ColumnKind } {
  if (typeof spec === 'string') return { column: snakeCase(field), kind: spec };
  if ('oneOf' in spec) return { column: spec.column ?? snakeCase(field), kind: spec.nullable === true ? 'text?' : 'text' };
  return { column: spec.column, kind: spec.kind };
}

// Conversions from what an engine returns (SQLite, or PostgreSQL with the type parsers of
// src/postgres/driver.ts) to what the row holds. NULL passes through where
// the column allows it.
const json = (text: unknown): JsonValue => JSON.parse(text as string) as JsonValue;
const CONVERSIONS: Readonly<Record<Kind, ((value: unknown) => unknown) | undefined>> = {
  text: undefined,
  integer: undefined,
  real: undefined,
  time: undefined,
  // SQLite stores 0 or 1; PostgreSQL has a boolean type.
  boolean: (value) => value === 1 || value === true,
  json,
  object: json,
  array: json,
  idList: (value) => (value == null ? [] : json(value)),
  embedding: (blob) => {
    if (Array.isArray(blob)) return Float32Array.from(blob as number[]);
    const bytes = blob as Uint8Array;
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  },
  // A Buffer (node-postgres's, better-sqlite3's) becomes a plain Uint8Array of its own:
  // what callers get back is what they stored, and no view of a pooled buffer escapes.
  bytes: (value) => (Buffer.isBuffer(value) ? new Uint8Array(value) : value),
  blob: undefined,
};

export interface Table<S extends ColumnsSpec> {
  readonly name: string;
  readonly spec: S;
  /** The column list in declaration order, for SELECT and RETURNING. */
  readonly columns: string;
  /** How many columns `columns` selects: a statement's extra columns come after. */
  readonly width: number;
  // Functions, not methods: `rows.map(TASKS.decode)` passes them on detached.
  /** The column list with each column qualified by a table alias (for joins). */
  readonly qualified: (alias: string) => string;
  /** The row of a statement that selected `columns` first. */
  readonly decode: (row: RawRow) => RowOf<{ spec: S }>;
  /** The row whose columns start at `offset` (a join that selected another table first). */
  readonly decodeAt: (row: RawRow, offset: number) => RowOf<{ spec: S }>;
  /** The SQL column name of a field. */
  readonly column: (field: keyof S & string) => string;
  /** The `i`-th value a statement selected after this table's columns (e.g. rowid). */
  readonly after: (row: RawRow, i?: number) => unknown;
}

/**
 * Declares a table. Fields are the public row's names; each column is its field in
 * snake_case unless named. The decoder is compiled once from the declaration into one
 * object literal (as a hand-written decoder would be): every row a worker returns goes
 * through it, and a generic loop over the columns measured 2-3 times slower.
 */
export function defineTable<const S extends ColumnsSpec>(name: string, spec: S): Table<S> {
  const fields = Object.keys(spec);
  const described = fields.map((field) => ({ field, ...describeColumn(field, spec[field]!) }));
  // Each conversion the columns use, passed to the compiled decoder as c0, c1, …
  const converters = [
    ...new Set(described.flatMap(({ kind }) => CONVERSIONS[kind.replace('?', '') as Kind] ?? [])),
  ];
  const body = (cell: (i: number) => string): string =>
    described
      .map(({ field, kind }, i) => {
        const convert = CONVERSIONS[kind.replace('?', '') as Kind];
        if (convert === undefined) return `${JSON.stringify(field)}: ${cell(i)}`;
        const call = `c${converters.indexOf(convert)}(${cell(i)})`;
        return `${JSON.stringify(field)}: ${kind.endsWith('?') ? `${cell(i)} == null ? null : ${call}` : call}`;
      })
      .join(', ');
  // The converters arrive as one array, unpacked once into c0, c1, … by the compiled code.
  const unpack = `const [${converters.map((_, i) => `c${i}`).join(', ')}] = c;`;
  const compile = <F>(params: string, cell: (i: number) => string): F =>
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiled once, from this module's own declarations
    (new Function('c', `${unpack} return (${params}) => ({ ${body(cell)} });`) as (c: readonly unknown[]) => F)(converters);
  const decode = compile<Table<S>['decode']>('r', (i) => `r[${i}]`);
  const decodeAt = compile<Table<S>['decodeAt']>('r, o', (i) => `r[o + ${i}]`);
  const columns = described.map((d) => d.column);
  const byField = new Map(described.map((d) => [d.field, d.column]));
  return {
    name,
    spec,
    columns: columns.join(', '),
    width: columns.length,
    qualified: (alias) => columns.map((column) => `${alias}.${column}`).join(', '),
    decode,
    decodeAt,
    column: (field) => byField.get(field)!,
    after: (row, i = 0) => row[columns.length + i],
  };
}

/** Compile-time proof that two types are the same (a derived row type and a public one). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
