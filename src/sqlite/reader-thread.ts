import { getPriority, setPriority } from 'node:os';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { openReaderConnection } from './connection.js';
import { operations } from '../catalogue/index.js';
import { PreparedCatalogue } from '../catalogue/prepared.js';
import { toWireError } from '../api/errors.js';
import { decodeReadBatch, encodeOutcomes, type ReadBatchRequest, type ReadBatchResponse } from './protocol.js';
import { ReadExecutor } from './read-executor.js';

/** What each reader thread needs to open its connection; plain data. */
export interface ReaderConfig {
  path: string;
  busyTimeoutMs: number;
}

/** What a reader thread receives as its `workerData`. */
export interface ReaderThreadData {
  config: ReaderConfig;
  /** Added to the thread's nice value (Linux only). */
  nice: number;
  /** Its end of the channel: batches in, answers out, in order. */
  port: MessagePort;
}

export type ReadHandler = (request: ReadBatchRequest) => ReadBatchResponse;

/**
 * Opens a read-only connection, prepares every read operation on it and returns the
 * batch handler. Opening never throws: a reader that cannot open answers every call
 * with the error, rather than dying and being replaced in a loop.
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

/** What a reader thread says first, once its connection is open: it is ready. */
export const READER_READY = 'ready';

/**
 * A reader thread's loop: says it is ready, then answers each batch that arrives on
 * `port`, in order. Batches already waiting are taken at once (receiveMessageOnPort)
 * rather than each through an event of its own.
 */
export function serveReads({ config, nice, port }: ReaderThreadData): void {
  // On Linux a thread's priority is its own: this lowers the reader's, not the process's.
  if (nice > 0 && process.platform === 'linux') {
    try {
      setPriority(0, Math.min(19, getPriority(0) + nice));
    } catch {
      // Not permitted here: the reader runs at the caller's priority.
    }
  }
  const handle = createReadHandler(config);
  port.postMessage(READER_READY);
  port.on('message', (first: ReadBatchRequest) => {
    let request: ReadBatchRequest | undefined = first;
    while (request !== undefined) {
      port.postMessage(handle(request));
      request = (receiveMessageOnPort(port)?.message as ReadBatchRequest | undefined);
    }
  });
}
