import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { ArgsOf, OperationKind, OperationRef, ResultOf } from '../api/engine.js';
import { missingParent, parentExists, type ParentField, type ParentTable } from './parents.js';

export type { ArgsOf, OperationKind, ResultOf };

/** A SQLite connection (better-sqlite3's): what an operation's statements are prepared on. */
export type Connection = Database.Database;

/**
 * How a statement returns rows: `rows` as objects, `raw` as arrays in column order (about
 * half the cost of objects for wide rows, so decoders read positions), `pluck` as the
 * first column's value.
 */
export type StatementMode = 'rows' | 'raw' | 'pluck';
export interface StatementSpec {
  readonly sql: string;
  readonly mode: StatementMode;
}
export type StatementSource = string | StatementSpec;
export type Statements = Record<string, StatementSource>;

export const raw = (sql: string): StatementSpec => ({ sql, mode: 'raw' });
export const pluck = (sql: string): StatementSpec => ({ sql, mode: 'pluck' });
export const specOf = (source: StatementSource): StatementSpec =>
  typeof source === 'string' ? { sql: source, mode: 'rows' } : source;

/** The statements of one operation, prepared on one connection, by the names it gave them. */
export type Prepared<S extends Statements> = { readonly [K in keyof S]: Statement };

/** What an operation's `run` receives: its prepared statements and the connection. */
export interface RunContext<S extends Statements> {
  readonly st: Prepared<S>;
  readonly db: Connection;
}

/**
 * One named unit of work: its SQL, how arguments bind, how rows decode. Runs start to
 * finish synchronously on one connection — inside a read transaction on a reader, inside
 * the group-commit transaction on the writer.
 *
 * `run` must be a function of its arguments and the database only, with no effect outside
 * its connection: the writer may run a write more than once in a batch it rolls back and
 * replays (see WriteExecutor), and only the run that commits counts. Anything made in
 * JavaScript that must stay fixed across a retry, such as a generated id, is made by the
 * service before the call is queued and passed in as an argument.
 */
export interface Operation<A extends readonly unknown[] = readonly unknown[], R = unknown> extends OperationRef<A, R> {
  readonly statements: Readonly<Statements>;
  /** False for operations SQLite refuses inside a transaction (VACUUM INTO). */
  readonly transactional: boolean;
  /** The rows of other tables this write names (its foreign keys): a missing one is NOT_FOUND. */
  readonly parents?: readonly ParentField<A>[];
  run(context: RunContext<Statements>, args: A): R;
  /** How a read's result crosses from a reader thread to the caller's thread: see {@link WireCodec}. */
  readonly wire?: WireCodec;
}

/**
 * A read's result in a cheaper form for the trip from a reader thread to the caller's
 * thread (SQLite only; PostgreSQL hands results over in-process). The reader sends
 * `pack(value)` in place of each result but `undefined`; the caller's thread gives the
 * caller `unpack` of it, a value equal to the one `run` returned, key order included.
 * Structured clone writes every key of every object and the caller's thread reads them
 * back one by one: the same values in one flat array take about a third less of the
 * caller's time to deserialize (measured on a session row, bench/read-path.ts).
 */
export interface WireCodec<R = unknown> {
  pack(value: R): unknown[];
  unpack(packed: unknown[]): R;
}

/** The statement, added to an operation that declares parents, that looks for one of `table`. */
const PARENT_STATEMENT: Readonly<Record<ParentTable, string>> = { tasks: 'parentTask', sessions: 'parentSession' };

/**
 * `run`, with a foreign-key failure turned into NOT_FOUND naming the declared parent that
 * is missing. SQLite does not say which key failed, so each declared id is looked for in
 * the same transaction (the failed statement has undone itself). A failure no declared
 * parent explains (an audit context naming a missing task) stays what it was.
 */
function reportingMissingParents<A extends readonly unknown[], R>(
  run: (context: RunContext<Statements>, args: A) => R,
  parents: readonly ParentField<A>[],
): (context: RunContext<Statements>, args: A) => R {
  return (context, args) => {
    try {
      return run(context, args);
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw error;
      for (const parent of parents) {
        const id = parent.id(args);
        if (id !== null && context.st[PARENT_STATEMENT[parent.table]]!.get(id) === undefined) {
          throw missingParent(parent.field, parent.table, id, { sqliteCode: 'SQLITE_CONSTRAINT_FOREIGNKEY', cause: error });
        }
      }
      throw error;
    }
  };
}

export function defineOperation<S extends Statements, A extends readonly unknown[], R>(spec: {
  name: string;
  kind: OperationKind;
  statements: S;
  transactional?: boolean;
  /** A write's foreign keys, by the caller's field names: see {@link Operation.parents}. */
  parents?: readonly ParentField<A>[];
  /** A read's result on the way to the caller's thread: see {@link WireCodec}. */
  wire?: WireCodec<Exclude<R, undefined>>;
  /** Called detached from `spec`: it must not use `this`. */
  run(this: void, context: RunContext<S>, args: A): R;
}): Operation<A, R> {
  const run = spec.run as (context: RunContext<Statements>, args: A) => R;
  const { parents } = spec;
  if (parents === undefined || parents.length === 0) {
    const operation = { name: spec.name, kind: spec.kind, statements: spec.statements, transactional: spec.transactional ?? true, run };
    return spec.wire === undefined ? operation : { ...operation, wire: spec.wire };
  }
  const lookups = Object.fromEntries(parents.map(({ table }) => [PARENT_STATEMENT[table], pluck(parentExists(table))]));
  return {
    name: spec.name,
    kind: spec.kind,
    statements: { ...spec.statements, ...lookups },
    transactional: spec.transactional ?? true,
    parents,
    run: reportingMissingParents(run, parents),
    ...(spec.wire === undefined ? {} : { wire: spec.wire }),
  };
}
