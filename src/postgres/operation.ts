import type { AuditContext } from '../api/types.js';
import type { AuditRecord } from '../catalogue/audit-log.js';
import type { ArgsOf, Operation, ResultOf } from '../catalogue/operation.js';
import { missingParent, type ParentField } from '../catalogue/parents.js';
import type { RawRow } from '../catalogue/table.js';

export type PgStatements = Record<string, string>;

/**
 * What a PostgreSQL implementation runs its statements through: one connection, inside
 * the call's transaction. Rows come back as arrays in select-list order, which the
 * catalogue's shared row decoders read. Each statement is prepared once per connection
 * (a named statement), as the SQLite engine prepares its catalogue once per connection.
 */
export interface PgQueries<S extends PgStatements> {
  all(statement: keyof S & string, params?: readonly unknown[]): Promise<RawRow[]>;
  /** The first row, or undefined. */
  one(statement: keyof S & string, params?: readonly unknown[]): Promise<RawRow | undefined>;
  /** The first column of the first row, or undefined when there is no row. */
  value(statement: keyof S & string, params?: readonly unknown[]): Promise<unknown>;
  /**
   * Sends a statement whose answer the call does not need (a lock): on a pipelining
   * connection it goes out with the next statement and costs no round trip of its own; its
   * failure is reported by that statement's wait.
   */
  send(statement: keyof S & string, params?: readonly unknown[]): Promise<void>;
  /** Writes the operation's audit row, in the same transaction. */
  audit(ctx: AuditContext | undefined, record: AuditRecord): Promise<void>;
}

/**
 * How a call runs on PostgreSQL:
 * - `write`: BEGIN … COMMIT (READ COMMITTED), the audit row in the same transaction;
 * - `read`: one statement, which is its own snapshot;
 * - `snapshot`: several statements in one REPEATABLE READ READ ONLY transaction, so they
 *   see one snapshot, as one SQLite read transaction does.
 */
export type PgMode = 'write' | 'read' | 'snapshot';

/** One catalogue operation implemented on PostgreSQL. */
export interface PgImplementation<O extends Operation = Operation> {
  readonly operation: O;
  readonly mode: PgMode;
  /** For a `snapshot` implementation: whether these arguments run one statement only (then it needs no transaction). */
  readonly oneStatement?: (args: ArgsOf<O>) => boolean;
  readonly statements: PgStatements;
  run(q: PgQueries<PgStatements>, args: ArgsOf<O>): Promise<ResultOf<O>>;
}

/**
 * Implements a catalogue operation on PostgreSQL. The operation object is the call's
 * typed identity: `run` takes its argument tuple and must return its result type, so a
 * change to either in the catalogue fails to compile here.
 */
export function implement<O extends Operation, S extends PgStatements>(
  operation: O,
  spec: {
    mode?: PgMode;
    /** See {@link PgImplementation.oneStatement}. */
    oneStatement?: (args: ArgsOf<O>) => boolean;
    statements: S;
    /** Called detached from `spec`: it must not use `this`. */
    run(this: void, q: PgQueries<S>, args: ArgsOf<O>): Promise<ResultOf<O>>;
  },
): PgImplementation<O> {
  const mode = spec.mode ?? (operation.kind === 'write' ? 'write' : 'read');
  if ((mode === 'write') !== (operation.kind === 'write')) {
    throw new Error(`${operation.name} is a ${operation.kind} operation; its PostgreSQL mode cannot be ${mode}`);
  }
  const run = spec.run;
  const parents = operation.parents as readonly ParentField<ArgsOf<O>>[] | undefined;
  const implementation = { operation, mode, statements: spec.statements, run: parents === undefined ? run : reportingMissingParents(run, parents) };
  return spec.oneStatement === undefined ? implementation : { ...implementation, oneStatement: spec.oneStatement };
}

/**
 * How one call runs: as its implementation says, except that a snapshot read whose
 * arguments run one statement runs it on its own (that statement is its snapshot), saving
 * the BEGIN and COMMIT round trips.
 */
export function modeFor(implementation: PgImplementation, args: readonly unknown[]): PgMode {
  return implementation.mode === 'snapshot' && implementation.oneStatement?.(args) === true ? 'read' : implementation.mode;
}

/** A foreign-key violation's detail: `Key (task_id)=(t-9) is not present in table "tasks".` */
const NOT_PRESENT = /^Key \([^)]*\)=\((.*)\) is not present in table "([^"]+)"\.?$/s;

/**
 * `run`, with a foreign-key violation (23503) on a declared parent turned into the same
 * NOT_FOUND the SQLite engine gives. The transaction is aborted by then, so nothing can be
 * looked up: the violation's detail names the table and the id, and the declared parent
 * with both is the one missing. A violation no declared parent explains (an audit
 * context naming a missing task) stays what it was.
 */
function reportingMissingParents<A, R>(
  run: (q: PgQueries<PgStatements>, args: A) => Promise<R>,
  parents: readonly ParentField<A>[],
): (q: PgQueries<PgStatements>, args: A) => Promise<R> {
  return async (q, args) => {
    try {
      return await run(q, args);
    } catch (error) {
      const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
      const [, id, table] = code === '23503' && typeof detail === 'string' ? (NOT_PRESENT.exec(detail) ?? []) : [];
      const parent = parents.find((p) => p.table === table && p.id(args) === id);
      if (parent === undefined || id === undefined) throw error;
      throw missingParent(parent.field, parent.table, id, { pgCode: '23503', cause: error });
    }
  };
}

/** The statement that writes an audit row; named once, shared by every write. Its parameters: auditParams (src/catalogue/audit-log.ts). */
export const PG_AUDIT_INSERT =
  'INSERT INTO audit (agent_id, task_id, action_type, action_data, result, memory_operation_type, memory_namespace, ' +
  'memory_entry_id) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)';


/**
 * Thrown by an implementation when a race it can lose (two hosts writing the same new
 * version) rolled its transaction back and running it again is safe and will see the
 * winner's write.
 */
export class RetryTransaction extends Error {
  override readonly name = 'RetryTransaction';
}
