import { operations, openWriterConnection, PreparedCatalogue, type Connection, type OperationCall, type Synchronous } from '../src/internal.js';

/**
 * A read-write connection with the whole catalogue prepared, and a function that runs
 * one call on it: reads as they are, each write in its own BEGIN IMMEDIATE transaction
 * (one transaction per call, as hand-rolled code does).
 */
export function catalogueConnection(path: string, synchronous: Synchronous): { db: Connection; run: (call: OperationCall) => unknown } {
  const db = openWriterConnection(path, { synchronous, busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
  db.pragma('journal_mode = WAL');
  const catalogue = new PreparedCatalogue(db, operations, ['read', 'write']);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const run = ([name, args]: OperationCall): unknown => {
    const { operation, context } = catalogue.get(name);
    if (operation.kind === 'read') return operation.run(context, args);
    begin.run();
    try {
      const value = operation.run(context, args);
      commit.run();
      return value;
    } catch (error) {
      if (db.inTransaction) rollback.run();
      throw error;
    }
  };
  return { db, run };
}
