import type { Statement } from 'better-sqlite3';
import { toWireError, type WireError } from '../api/errors.js';
import type { PreparedCatalogue } from '../catalogue/prepared.js';
import type { OperationCall, Outcome } from './protocol.js';

/**
 * Which operations of an attempt run inside their own savepoint: none (optimistic), the
 * ones that failed in an earlier attempt, or all of them.
 */
type Guard = ReadonlySet<number> | 'all';

const NONE: ReadonlySet<number> = new Set();

/** An attempt that stopped: an operation without a savepoint failed, and the batch was rolled back. */
interface Replay {
  readonly failed: number;
}

/**
 * Group commit: runs a batch of write operations in one `BEGIN IMMEDIATE` transaction.
 *
 * A batch first runs optimistically, without savepoints (a SAVEPOINT/RELEASE pair costs
 * more than a small write). Only when an operation fails is the batch rolled back and run
 * again, that operation now inside its own savepoint, so it rolls back and fails alone
 * and the others commit together; if another operation fails in that replay, the batch
 * runs a third time with a savepoint around every operation, which never needs a replay.
 * Nothing of a rolled-back attempt survives it: each attempt starts a fresh transaction
 * and a fresh set of outcomes, so a caller gets the value of the run that committed, and
 * each operation commits at most once. (An operation may therefore *run* more than once;
 * operations are pure functions of their arguments and the database, see Operation.)
 *
 * After a batch needed every operation guarded, the next batch starts that way, and
 * goes back to optimistic once a batch has at most one failure: a load where most batches
 * hold several failing operations costs what a savepoint per operation costs, not more.
 *
 * Outcomes are final only once `execute` returns, after the COMMIT.
 */
export class WriteExecutor {
  readonly #catalogue: PreparedCatalogue;
  readonly #begin: Statement;
  readonly #commit: Statement;
  readonly #rollback: Statement;
  readonly #savepoint: Statement;
  readonly #release: Statement;
  readonly #rollbackTo: Statement;
  /** Start the next batch with every operation guarded. */
  #guardAll = false;
  /** Batches run more than once because an operation failed (for stats and tests). */
  replays = 0;

  constructor(catalogue: PreparedCatalogue) {
    const db = catalogue.db;
    this.#catalogue = catalogue;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT operation');
    this.#release = db.prepare('RELEASE operation');
    this.#rollbackTo = db.prepare('ROLLBACK TO operation');
  }

  execute(calls: readonly OperationCall[]): Outcome[] {
    let guard: Guard = this.#guardAll ? 'all' : NONE;
    for (;;) {
      const result = this.#attempt(calls, guard);
      if (Array.isArray(result)) {
        if (guard === 'all') this.#guardAll = result.filter((o) => !o.ok).length > 1;
        return result;
      }
      this.replays++;
      if (guard === NONE) {
        guard = new Set([result.failed]);
      } else {
        guard = 'all';
        this.#guardAll = true;
      }
    }
  }

  /**
   * One run of the batch. Returns its outcomes once committed (or failed as a whole), or
   * which unguarded operation failed, the transaction already rolled back.
   */
  #attempt(calls: readonly OperationCall[], guard: Guard): Outcome[] | Replay {
    const db = this.#catalogue.db;
    const outcomes = new Array<Outcome>(calls.length);
    // Calls that succeeded inside the transaction still open: they stand or fall with it.
    let uncommitted: number[] = [];
    const failUncommitted = (error: WireError): void => {
      for (const j of uncommitted) outcomes[j] = { ok: false, error: rolledBack(error) };
      uncommitted = [];
    };

    for (let i = 0; i < calls.length; i++) {
      const [name, args] = calls[i]!;
      try {
        if (!db.inTransaction) this.#begin.run();
      } catch (error) {
        // Nothing of this transaction ran, and no call after this one can run without it.
        // Each retrying BEGIN would wait busy_timeout again (20 calls × 200 ms took 4 s to
        // fail): the rest of the batch fails at once, with the one error.
        const failure = beginFailed(toWireError(error));
        for (let j = i; j < calls.length; j++) outcomes[j] = { ok: false, error: failure };
        return outcomes;
      }
      let bound;
      try {
        bound = this.#catalogue.get(name);
      } catch (error) {
        // Nothing ran: it fails alone without a replay.
        outcomes[i] = { ok: false, error: toWireError(error) };
        continue;
      }
      if (guard !== 'all' && !guard.has(i)) {
        try {
          outcomes[i] = { ok: true, value: bound.operation.run(bound.context, args) };
          uncommitted.push(i);
          continue;
        } catch {
          // It may have written half its rows, and there is no savepoint to undo them alone.
          this.#rollbackAll();
          return { failed: i };
        }
      }
      try {
        this.#savepoint.run();
        const value = bound.operation.run(bound.context, args);
        this.#release.run();
        outcomes[i] = { ok: true, value };
        uncommitted.push(i);
      } catch (error) {
        const wire = toWireError(error);
        outcomes[i] = { ok: false, error: wire };
        if (db.inTransaction) {
          try {
            this.#rollbackTo.run();
            this.#release.run();
            continue;
          } catch {
            this.#rollbackAll();
          }
        }
        // SQLite rolled the whole transaction back (disk full, I/O error), or the
        // savepoint could not be undone alone: the calls that had succeeded in it are
        // undone too.
        failUncommitted(wire);
      }
    }

    if (db.inTransaction) {
      try {
        this.#commit.run();
        uncommitted = [];
      } catch (error) {
        this.#rollbackAll();
        failUncommitted(toWireError(error));
      }
    }
    return outcomes;
  }

  #rollbackAll(): void {
    if (!this.#catalogue.db.inTransaction) return;
    try {
      this.#rollback.run();
    } catch {
      // Nothing more can be undone; SQLite rolls back when the connection recovers.
    }
  }
}

function beginFailed(error: WireError): WireError {
  if (error.code !== 'BUSY') return error;
  return { ...error, message: `another connection held the write lock past busyTimeoutMs; nothing was written, retry (${error.message})` };
}

function rolledBack(cause: WireError): WireError {
  return { ...cause, message: `rolled back with its batch: ${cause.message}` };
}
