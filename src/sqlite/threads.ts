import { wrap } from 'comlink';
import { Piscina } from 'piscina';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../api/errors.js';
import { workerFile } from '../paths.js';
import { execArgvOption } from './exec-argv.js';
import { workerEndpoint } from './node-endpoint.js';
import type { ReadPoolLimits, ReadWorkers } from './read-pool.js';
import { ReaderChannels, type ServePool } from './reader-channels.js';
import type { ReaderConfig, ServeTask } from './reader-thread.js';
import type { SpawnWriter } from './writer-client.js';
import type { Writer } from './writer-thread.js';

// The real threads the engine runs on: the compiled worker entries in dist/workers.
// ReadPool and WriterClient take them as arguments, so tests can give them threads that
// run in-process instead; this file is all that only real threads exercise.

/**
 * The reader threads: a Piscina pool of `workers/reader` (`minThreads = maxThreads =
 * readers`, no idle timeout), each thread running one serve task fed by {@link ReaderChannels}.
 */
export function piscinaReaders(config: ReaderConfig, limits: ReadPoolLimits): ReadWorkers {
  const pool = new Piscina<ServeTask, void>({
    filename: workerFile('reader'),
    minThreads: limits.readers,
    maxThreads: limits.readers,
    idleTimeout: Infinity,
    // Each thread runs one task for its whole life: there is no wait between tasks to shorten.
    atomics: 'disabled',
    recordTiming: false,
    ...(limits.resourceLimits === undefined ? {} : { resourceLimits: limits.resourceLimits }),
    ...execArgvOption(),
  });
  // A thread that dies with no task to reject (one that failed while it started) is
  // reported here; an 'error' event without a listener would throw on the caller's thread.
  let lastError: Error | undefined;
  pool.on('error', (error: Error) => {
    lastError = error;
  });
  const serve: ServePool = {
    serve: (task, signal) => pool.run(task, { transferList: [task.port], signal }),
    get threads() {
      return pool.threads;
    },
    onThreadLost(listener) {
      pool.on('workerDestroy', () => {
        // Once the tasks it held have settled and were given again.
        setImmediate(() => {
          const error = lastError;
          lastError = undefined;
          listener(pool.queueSize > 0 && pool.threads.length < limits.readers, error);
        });
      });
    },
    close: () => pool.close(),
  };
  return new ReaderChannels(serve, limits.readers, { config, nice: limits.nice });
}

/** The real writer thread: `workers/writer`, a {@link Writer} exposed with comlink. */
export const spawnWriterThread: SpawnWriter = (onExit) => {
  const worker = new Worker(workerFile('writer'), execArgvOption());
  // What killed the thread, when it said: the exit then carries it as its cause.
  let died: Error | undefined;
  worker.on('error', (error) => {
    died = error;
  });
  const exited = new Promise<never>((_, reject) => {
    worker.once('exit', (code) => {
      const why = died === undefined ? '' : `: ${died.message}`;
      reject(new StoreError('WORKER_CRASHED', `writer thread exited with code ${code}${why}`, died === undefined ? undefined : { cause: died }));
      onExit();
    });
  });
  exited.catch(() => {});
  return {
    // Calls still owed when the thread exits reject WORKER_CRASHED rather than stay pending.
    remote: wrap<Writer>(
      workerEndpoint(worker, (code) => new StoreError('WORKER_CRASHED', `writer thread exited with code ${code}`, died === undefined ? undefined : { cause: died })),
    ),
    exited,
    get threadId() {
      return worker.threadId;
    },
    terminate: () => worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
};
