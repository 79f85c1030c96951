import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { aborted, fromWireError, StoreError, type WireError } from '../api/errors.js';
import { workerFile } from '../paths.js';
import { appendCall, type ReadBatchRequest, type ReadBatchResponse } from './protocol.js';
import type { ReaderConfig } from './reader-thread.js';
import type { EngineStats } from './engine-stats.js';
import { fail, succeed, type PendingCall } from './pending-call.js';
import { Queue } from './queue.js';
import type { OperationTarget } from './targets.js';

/**
 * Batches in flight per reader. With two, a reader starts its next batch while the
 * caller's thread is still settling the last one, instead of waiting for it to wake up
 * and send more (measured: 9-27% more reads per second at 64 callers in A/B runs).
 */
const DEPTH = 2;

export interface ReadPoolLimits {
  readers: number;
  maxBatch: number;
  /** Added to the readers' nice value (Linux): the caller's thread wins a busy CPU. */
  nice: number;
}

/**
 * Coalesces reads into batches and runs them on a Piscina pool of read-only connections.
 *
 * Reads issued in the same tick are flushed together in a microtask (no timer: a lone
 * read goes out at once). At most DEPTH batches per reader are in flight; while every
 * reader is busy, new reads wait here, so batches grow with load and shrink when it
 * drops.
 */
export class ReadPool implements OperationTarget {
  readonly #pool: Piscina<ReadBatchRequest, ReadBatchResponse>;
  readonly #limits: ReadPoolLimits;
  readonly #stats: EngineStats;
  readonly #queue = new Queue<PendingCall>();
  #inFlight = 0;
  #scheduled = false;
  #created = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(config: ReaderConfig, limits: ReadPoolLimits, stats: EngineStats) {
    this.#limits = limits;
    this.#stats = stats;
    this.#pool = new Piscina<ReadBatchRequest, ReadBatchResponse>({
      filename: workerFile('reader'),
      minThreads: limits.readers,
      maxThreads: limits.readers,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: DEPTH,
      recordTiming: false,
      niceIncrement: limits.nice,
      workerData: config,
    });
    this.#pool.on('workerCreate', () => this.#created++);
    // A reader that dies is reported through its task's rejection; an 'error' event
    // without a listener would throw on the caller's thread.
    this.#pool.on('error', () => {});
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Reader threads started to replace ones that died. */
  get restarts(): number {
    return Math.max(0, this.#created - this.#limits.readers);
  }

  /** The live reader threads (tests terminate them on purpose). */
  get threads(): Worker[] {
    return this.#pool.threads;
  }

  submit(name: string, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ name, args, resolve, reject, start: performance.now() }, signal, this.#withdrawn);
      if (!this.#scheduled) {
        this.#scheduled = true;
        // Idle pool: go at once (after this tick's other reads join). Busy pool: wait
        // for the rest of this turn of the event loop, so the reads its callbacks issue
        // go together rather than one at a time to whichever reader frees first.
        if (this.#inFlight === 0) queueMicrotask(this.#scheduledFlush);
        else setImmediate(this.#scheduledFlush);
      }
    });
  }

  /** A read whose signal aborted while it waited: it was never sent. */
  readonly #withdrawn = (call: PendingCall, signal: AbortSignal): void => {
    // No flush here: whatever the queue waits for (a batch in flight, a writer starting,
    // the flush already scheduled) flushes it next, and settles drain() when it empties.
    fail(call, aborted(call.name, signal), this.#stats);
  };

  readonly #scheduledFlush = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const { readers, maxBatch } = this.#limits;
    const slots = readers * DEPTH;
    // Spread what is waiting over the free readers rather than filling one.
    while (this.#queue.length > 0 && this.#inFlight < slots) {
      const size = Math.min(maxBatch, Math.ceil(this.#queue.length / (slots - this.#inFlight)));
      this.#send(this.#queue.take(size));
    }
    if (this.#inFlight === 0 && this.#queue.length === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #send(batch: PendingCall[]): void {
    this.#inFlight++;
    this.#stats.readBatches.add(batch.length);
    const request: ReadBatchRequest = [];
    for (const call of batch) appendCall(request, call.name, call.args);
    this.#pool.run(request).then(
      (response) => {
        this.#inFlight--;
        for (let i = 0; i < batch.length; i++) {
          const value = response[2 * i + 1];
          if (response[2 * i] === 1) succeed(batch[i]!, value, this.#stats);
          else fail(batch[i]!, fromWireError(value as WireError), this.#stats);
        }
        this.#flush();
      },
      (error: unknown) => {
        // The reader died with this batch; only its calls fail, and Piscina replaces it.
        this.#inFlight--;
        const crashed = new StoreError(
          'WORKER_CRASHED',
          `reader thread died during the read: ${error instanceof Error ? error.message : String(error)}`,
        );
        for (const call of batch) fail(call, crashed, this.#stats);
        this.#flush();
      },
    );
  }

  /** Resolves once every accepted read has settled. */
  drain(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    // Piscina unrefs idle threads; hold the process open until they have exited.
    for (const thread of this.#pool.threads) thread.ref();
    await this.#pool.destroy();
  }

  /** Resolves once every reader has opened its connection: an empty batch each. */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.#limits.readers * DEPTH }, () => this.#pool.run([])));
  }
}
