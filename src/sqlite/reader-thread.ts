import { openReaderConnection } from './connection.js';
import { operations } from '../catalogue/index.js';
import { PreparedCatalogue } from '../catalogue/prepared.js';
import { toWireError } from '../api/errors.js';
import { decodeReadBatch, encodeOutcomes, type ReadBatchRequest, type ReadBatchResponse } from './protocol.js';
import { ReadExecutor } from './read-executor.js';

/** What each reader worker receives as Piscina `workerData`. */
export interface ReaderConfig {
  path: string;
  busyTimeoutMs: number;
}

export type ReadHandler = (request: ReadBatchRequest) => ReadBatchResponse;

/**
 * Opens a read-only connection, prepares every read operation on it and returns the
 * Piscina task handler. Opening never throws: a reader that cannot open answers every
 * call with the error, so Piscina does not respawn it in a loop.
 */
export function createReadHandler(config: ReaderConfig): ReadHandler {
  try {
    const db = openReaderConnection(config.path, config.busyTimeoutMs);
    const executor = new ReadExecutor(new PreparedCatalogue(db, operations, ['read']));
    return (request) => encodeOutcomes(executor.run(decodeReadBatch(request)));
  } catch (error) {
    const wire = toWireError(error);
    return (request) => encodeOutcomes(decodeReadBatch(request).map(() => ({ ok: false, error: wire })));
  }
}
