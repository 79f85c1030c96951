import { openReaderConnection } from './connection.js';
import { operations } from './catalogue/index.js';
import { PreparedCatalogue } from './catalogue/prepared.js';
import { toWireError } from './errors.js';
import type { Outcome, ReadBatchRequest } from './protocol.js';
import { ReadExecutor } from './read-executor.js';

/** What each reader worker receives as Piscina `workerData`. */
export interface ReaderConfig {
  path: string;
  busyTimeoutMs: number;
}

export type ReadHandler = (batch: ReadBatchRequest) => Outcome[];

/**
 * Opens a read-only connection, prepares every read operation on it and returns the
 * Piscina task handler. Opening never throws: a reader that cannot open answers every
 * call with the error, so Piscina does not respawn it in a loop.
 */
export function createReadHandler(config: ReaderConfig): ReadHandler {
  try {
    const db = openReaderConnection(config.path, config.busyTimeoutMs);
    const executor = new ReadExecutor(new PreparedCatalogue(db, operations, ['read']));
    return (batch) => executor.run(batch);
  } catch (error) {
    const outcome: Outcome = { ok: false, error: toWireError(error) };
    return (batch) => batch.map(() => outcome);
  }
}
