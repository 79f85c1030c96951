import { wrap } from 'comlink';
import { Piscina } from 'piscina';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../api/errors.js';
import { workerFile } from '../paths.js';
import { nodeEndpoint } from './node-endpoint.js';
import type { ReadBatchRequest, ReadBatchResponse } from './protocol.js';
import { DEPTH, type ReadPoolLimits, type ReadWorkers } from './read-pool.js';
import type { ReaderConfig } from './reader-thread.js';
import type { SpawnWriter } from './writer-client.js';
import type { Writer } from './writer-thread.js';

// The real threads the engine runs on: the compiled worker entries in dist/workers.
// ReadPool and WriterClient take them as arguments, so tests can give them threads that
// run in-process instead; this file is all that only real threads exercise.

/** The reader threads: a Piscina pool of `workers/reader`, each with its own read-only connection. */
export function piscinaReaders(config: ReaderConfig, limits: ReadPoolLimits): ReadWorkers {
  const pool = new Piscina<ReadBatchRequest, ReadBatchResponse>({
    filename: workerFile('reader'),
    minThreads: limits.readers,
    maxThreads: limits.readers,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    concurrentTasksPerWorker: DEPTH,
    recordTiming: false,
    niceIncrement: limits.nice,
    workerData: config,
  });
  let started = 0;
  pool.on('workerCreate', () => started++);
  // A reader that dies is reported through its task's rejection; an 'error' event
  // without a listener would throw on the caller's thread.
  pool.on('error', () => {});
  return {
    run: (request) => pool.run(request),
    get started() {
      return started;
    },
    get threads() {
      return pool.threads;
    },
    async destroy() {
      // Piscina unrefs idle threads; hold the process open until they have exited.
      for (const thread of pool.threads) thread.ref();
      await pool.destroy();
    },
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
    remote: wrap<Writer>(nodeEndpoint(worker)),
    exited,
    get threadId() {
      return worker.threadId;
    },
    terminate: () => worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
};
