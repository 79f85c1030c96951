import { wrap } from 'comlink';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { StoreError } from '../api/errors.js';
import { workerFile } from '../paths.js';
import { workerEndpoint } from './node-endpoint.js';
import type { ReadBatchResponse } from './protocol.js';
import type { ReadPoolLimits, ReadWorkers } from './read-pool.js';
import { ReaderSet, type ReaderChannel, type ReaderEvents } from './reader-set.js';
import { READER_READY, type ReaderConfig, type ReaderThreadData } from './reader-thread.js';
import type { SpawnWriter } from './writer-client.js';
import type { Writer } from './writer-thread.js';

// The real threads the engine runs on: the compiled worker entries in dist/workers.
// ReadPool and WriterClient take them as arguments, so tests can give them threads that
// run in-process instead; this file is all that only real threads exercise.

/**
 * The reader threads: `workers/reader`, each with its own read-only connection and its
 * own message channel to this thread, fed by a {@link ReaderSet}.
 */
export function threadReaders(config: ReaderConfig, limits: ReadPoolLimits): ReadWorkers {
  return new ReaderSet((events) => spawnReaderThread(config, limits.nice, events), limits.readers);
}

function spawnReaderThread(config: ReaderConfig, nice: number, events: ReaderEvents): ReaderChannel {
  const { port1: port, port2 } = new MessageChannel();
  const data: ReaderThreadData = { config, nice, port: port2 };
  const worker = new Worker(workerFile('reader'), { workerData: data, transferList: [port2] });
  // The thread never holds the process open; its port does, while it has batches.
  worker.unref();
  // Failures surface through 'exit'; an 'error' event without a listener would throw here.
  worker.on('error', () => {});
  worker.once('exit', (code) => {
    port.close();
    events.exit(`reader thread exited with code ${code}`);
  });
  port.on('message', (first: ReadBatchResponse | typeof READER_READY) => {
    // Answers already waiting are taken at once rather than each through an event.
    let message: ReadBatchResponse | typeof READER_READY | undefined = first;
    while (message !== undefined) {
      if (message === READER_READY) events.ready();
      else events.answer(message);
      message = receiveMessageOnPort(port)?.message as ReadBatchResponse | undefined;
    }
  });
  return {
    post: (request) => port.postMessage(request),
    ref: () => port.ref(),
    unref: () => port.unref(),
    get threadId() {
      return worker.threadId;
    },
    terminate: () => worker.terminate(),
  };
}

/** The real writer thread: `workers/writer`, a {@link Writer} exposed with comlink. */
export const spawnWriterThread: SpawnWriter = (onExit) => {
  const worker = new Worker(workerFile('writer'));
  // Failures surface through 'exit'; an 'error' event without a listener would throw here.
  worker.on('error', () => {});
  const exited = new Promise<never>((_, reject) => {
    worker.once('exit', (code) => {
      reject(new StoreError('WORKER_CRASHED', `writer thread exited with code ${code}`));
      onExit();
    });
  });
  exited.catch(() => {});
  return {
    // Calls still owed when the thread exits reject WORKER_CRASHED rather than stay pending.
    remote: wrap<Writer>(workerEndpoint(worker, (code) => new StoreError('WORKER_CRASHED', `writer thread exited with code ${code}`))),
    exited,
    get threadId() {
      return worker.threadId;
    },
    terminate: () => worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
};
