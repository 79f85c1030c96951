import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { StoreError } from '../errors.js';
import { workerFile } from '../paths.js';
import type { OperationCall, ReadBatchRequest, ReadBatchResponse } from '../protocol.js';
import type { ReaderConfig } from '../reader-service.js';
import type { EngineStats } from './engine-stats.js';
import { fail, settle, type PendingCall } from './pending-call.js';
import { Queue } from './queue.js';
import type { OperationTarget } from './targets.js';

export interface ReadPoolLimits {
  readers: number;
  maxQueue: number;
  maxBatch: number;
}

/**
 * Coalesces reads into batches and runs them on a Piscina pool of read-only connections.
 *
 * Reads issued in the same tick are flushed together in a microtask (no timer: a lone
 * read goes out at once). At most one batch per reader is in flight; while every reader
 * is busy, new reads wait here, so batches grow with load and shrink when it drops.
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
      concurrentTasksPerWorker: 1,
      recordTiming: false,
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

  get inFlightBatches(): number {
    return this.#inFlight;
  }

  /** Reader threads started to replace ones that died. */
  get restarts(): number {
    return Math.max(0, this.#created - this.#limits.readers);
  }

  /** The live reader threads (tests terminate them on purpose). */
  get threads(): Worker[] {
    return this.#pool.threads;
  }

  submit(name: string, args: readonly unknown[]): Promise<unknown> {
    if (this.#queue.length >= this.#limits.maxQueue) {
      return Promise.reject(
        new StoreError('OVERLOADED', `read queue is full (${this.#limits.maxQueue} waiting); retry later`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ name, args, resolve, reject, start: performance.now() });
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const { readers, maxBatch } = this.#limits;
    // Spread what is waiting over the free readers rather than filling one.
    while (this.#queue.length > 0 && this.#inFlight < readers) {
      const size = Math.min(maxBatch, Math.ceil(this.#queue.length / (readers - this.#inFlight)));
      this.#send(this.#queue.take(size));
    }
    if (this.#inFlight === 0 && this.#queue.length === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  };

  #send(batch: PendingCall[]): void {
    this.#inFlight++;
    this.#stats.readBatches.add(batch.length);
    const calls = batch.map((call): OperationCall => [call.name, call.args]);
    this.#pool.run(calls).then(
      (outcomes) => {
        this.#inFlight--;
        for (let i = 0; i < batch.length; i++) settle(batch[i]!, outcomes[i]!, this.#stats);
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

  /** Resolves once every reader has opened its connection: one empty batch each. */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.#limits.readers }, () => this.#pool.run([])));
  }
}
