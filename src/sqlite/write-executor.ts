import type { Statement } from 'better-sqlite3';
import { toWireError, type WireError } from '../api/errors.js';
import type { PreparedCatalogue } from '../catalogue/prepared.js';
import type { OperationCall, Outcome } from './protocol.js';

/**
 * Group commit: runs a batch of write operations in one `BEGIN IMMEDIATE` transaction,
 * each inside its own savepoint. A failing operation rolls back to its savepoint and
 * fails alone; the rest commit together. Outcomes are final only once `execute`
 * returns, after the COMMIT.
 */
export class WriteExecutor {
  readonly #catalogue: PreparedCatalogue;
  readonly #begin: Statement;
  readonly #commit: Statement;
  readonly #rollback: Statement;
  readonly #savepoint: Statement;
  readonly #release: Statement;
  readonly #rollbackTo: Statement;

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
        outcomes[i] = { ok: false, error: toWireError(error) };
        continue;
      }
      let bound;
      try {
        bound = this.#catalogue.get(name);
      } catch (error) {
        outcomes[i] = { ok: false, error: toWireError(error) };
        continue;
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

function rolledBack(cause: WireError): WireError {
  return { ...cause, message: `rolled back with its batch: ${cause.message}` };
}
