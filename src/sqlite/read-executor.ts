import type { Statement } from 'better-sqlite3';
import { toWireError } from '../api/errors.js';
import type { PreparedCatalogue } from '../catalogue/prepared.js';
import type { OperationCall, Outcome } from './protocol.js';

/**
 * Runs a batch of reads on a read-only connection. The batch shares one read transaction:
 * every operation sees one consistent snapshot, taken after every read in it was issued,
 * so a write that resolved before a read was issued is visible to that read. A result
 * whose operation has a wire codec is packed for the trip to the caller's thread.
 */
export class ReadExecutor {
  readonly #catalogue: PreparedCatalogue;
  readonly #begin: Statement;
  readonly #commit: Statement;

  constructor(catalogue: PreparedCatalogue) {
    this.#catalogue = catalogue;
    this.#begin = catalogue.db.prepare('BEGIN');
    this.#commit = catalogue.db.prepare('COMMIT');
  }

  run(calls: readonly OperationCall[]): Outcome[] {
    const db = this.#catalogue.db;
    const outcomes: Outcome[] = new Array<Outcome>(calls.length);
    for (let i = 0; i < calls.length; i++) {
      const [name, args] = calls[i]!;
      try {
        const { operation, context } = this.#catalogue.get(name);
        if (operation.transactional !== db.inTransaction) {
          (operation.transactional ? this.#begin : this.#commit).run();
        }
        const value = operation.run(context, args);
        // Sent packed where the operation says how (the caller's ReadPool unpacks it).
        outcomes[i] = { ok: true, value: value === undefined || operation.wire === undefined ? value : operation.wire.pack(value) };
      } catch (error) {
        outcomes[i] = { ok: false, error: toWireError(error) };
      }
    }
    if (db.inTransaction) this.#commit.run();
    return outcomes;
  }
}
