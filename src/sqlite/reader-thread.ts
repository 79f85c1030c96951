import { getPriority, setPriority } from 'node:os';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { openReaderConnection } from './connection.js';
import { operations } from '../catalogue/index.js';
import { PreparedCatalogue } from '../catalogue/prepared.js';
import { toWireError, type WireError } from '../api/errors.js';
import { decodeReadBatch, encodeOutcomes, type ReadBatchRequest, type ReadBatchResponse } from './protocol.js';
import { ReadExecutor } from './read-executor.js';

/** What each reader thread needs to open its connection; plain data. */
export interface ReaderConfig {
  path: string;
  busyTimeoutMs: number;
}

/**
 * A serve task: what a reader thread of the Piscina pool is given, once, for as long as it
 * serves. `port` travels in the task's transferList.
 */
export interface ServeTask {
  config: ReaderConfig;
  /** Added to the thread's nice value (Linux only). */
  nice: number;
  /** Its end of the channel: batches in, answers out, in order. */
  port: MessagePort;
}

/** What a reader says first once its connection is open: it takes batches. */
export const READER_READY = 'ready';

/** What a reader says instead of ready when its connection cannot open; then its task ends. */
export interface ReaderFailed {
  failed: WireError;
}

/**
 * Reader → main, on a serve task's port: READER_READY or ReaderFailed first, then one
 * answer per batch, each followed by its pages when it has some (./protocol.ts).
 */
export type ReaderMessage = typeof READER_READY | ReaderFailed | ReadBatchResponse;

export function isReaderFailed(message: ReaderMessage): message is ReaderFailed {
  return typeof message === 'object' && !Array.isArray(message);
}

/** A read-only connection with every read operation prepared on it. */
export interface ReadHandler {
  /** The batch's answer, then the pages of its large values: the messages to post, in order. */
  run(request: ReadBatchRequest): ReadBatchResponse[];
  close(): void;
}

/** Opens a read-only connection and prepares every read on it; throws (a StoreError) if it cannot. */
export function openReadHandler(config: ReaderConfig): ReadHandler {
  const db = openReaderConnection(config.path, config.busyTimeoutMs);
  try {
    const executor = new ReadExecutor(new PreparedCatalogue(db, operations, ['read']));
    return {
      run: (request) => encodeOutcomes(executor.run(decodeReadBatch(request))),
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

function lowerPriority(nice: number): void {
  // On Linux a thread's priority is its own: this lowers the reader's, not the process's.
  if (nice > 0 && process.platform === 'linux') {
    try {
      setPriority(0, Math.min(19, getPriority(0) + nice));
    } catch {
      // Not permitted here: the reader runs at the caller's priority.
    }
  }
}

/**
 * A reader thread's one task (the Piscina task of `workers/reader`): opens the connection,
 * says it is ready, then answers each batch that arrives on `port`, in order, until the
 * caller's side closes the port; then closes the connection and ends. Batches already
 * waiting are taken at once (receiveMessageOnPort) rather than each through an event.
 *
 * A connection that cannot open is reported instead of ready and the task ends, leaving
 * the thread to the pool: the caller's side fails the reads that waited for this reader
 * with the error, and tries again on a later read rather than in a loop.
 */
export function serveReads({ config, nice, port }: ServeTask): Promise<void> {
  lowerPriority(nice);
  let handler: ReadHandler;
  try {
    handler = openReadHandler(config);
  } catch (error) {
    port.postMessage({ failed: toWireError(error) } satisfies ReaderFailed);
    port.close();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    port.once('close', () => {
      handler.close();
      resolve();
    });
    port.on('message', (first: ReadBatchRequest) => {
      let request: ReadBatchRequest | undefined = first;
      while (request !== undefined) {
        for (const message of handler.run(request)) port.postMessage(message);
        request = receiveMessageOnPort(port)?.message as ReadBatchRequest | undefined;
      }
    });
    port.postMessage(READER_READY);
  });
}
