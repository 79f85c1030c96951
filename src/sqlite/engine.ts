import type { Worker } from 'node:worker_threads';
import type { CheckReport } from '../diagnostics/check.js';
import type { ArgsOf, Operation, ResultOf } from '../catalogue/operation.js';
import { aborted, StoreError, toStoreError } from '../api/errors.js';
import type { ResolvedOptions } from '../api/options.js';
import type { StoreEngine } from '../services/engine.js';
import { EngineStats } from './engine-stats.js';
import type { StoreStats } from '../api/types.js';
import { ReadPool } from './read-pool.js';
import type { OperationTarget, WriterTarget } from './targets.js';
import { WriterClient } from './writer-client.js';

export type { StoreStats };

/**
 * An OVERLOADED error without a stack trace: capturing one costs several times what the
 * rest of a refused call does, and a surge refuses calls by the hundred thousand.
 */
function overloaded(message: string): StoreError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new StoreError('OVERLOADED', message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Routes each operation to the read pool or the writer by its kind. Nothing on the
 * caller's thread runs SQL: this only queues, batches and settles.
 */
export class Engine implements StoreEngine {
  readonly kind = 'sqlite';
  readonly options: ResolvedOptions;
  readonly #stats: EngineStats;
  readonly #writer: WriterTarget;
  readonly #readers: OperationTarget;
  #closing: Promise<void> | undefined;

  /** @internal {@link Engine.start} builds the real one; tests also build one on in-process targets. */
  constructor(options: ResolvedOptions, stats: EngineStats, writer: WriterTarget, readers: OperationTarget) {
    this.options = options;
    this.#stats = stats;
    this.#writer = writer;
    this.#readers = readers;
  }

  get location(): string {
    return this.options.path;
  }

  /** Starts the writer (which applies the schema), then the readers. */
  static async start(options: ResolvedOptions): Promise<Engine> {
    const stats = new EngineStats();
    const writer = await WriterClient.start(
      {
        path: options.path,
        synchronous: options.synchronous,
        busyTimeoutMs: options.busyTimeoutMs,
        journalSizeLimit: options.journalSizeLimit,
        walLimitBytes: options.walLimitBytes,
        checkpointIntervalMs: options.checkpointIntervalMs,
        manageWal: options.manageWal,
        fileMode: options.fileMode,
      },
      { maxBatch: options.maxWriteBatch },
      stats,
    );
    const readers = new ReadPool(
      { path: options.path, busyTimeoutMs: options.busyTimeoutMs },
      { readers: options.readers, maxBatch: options.maxReadBatch, nice: options.readerNice },
      stats,
    );
    await readers.warmUp();
    return new Engine(options, stats, writer, readers);
  }

  /**
   * Runs one catalogue operation. `build` checks and assembles the arguments; if it
   * throws, the promise rejects and nothing is queued. A `signal` that aborts while the
   * call still waits in its queue withdraws it (ABORTED); once sent, it runs to the end.
   */
  call<O extends Operation>(operation: O, build: () => ArgsOf<O>, signal?: unknown): Promise<ResultOf<O>> {
    if (this.#closing !== undefined) {
      return Promise.reject(new StoreError('CLOSED', `store is closed; ${operation.name} was not run`));
    }
    if (signal !== undefined) {
      if (!(signal instanceof AbortSignal)) {
        return Promise.reject(new StoreError('INVALID_ARGUMENT', 'signal must be an AbortSignal'));
      }
      if (signal.aborted) return Promise.reject(aborted(operation.name, signal));
    }
    const target = operation.kind === 'read' ? this.#readers : this.#writer;
    // Refused before any work is done on it: under overload, refusing must stay cheap.
    if (target.queueDepth >= this.options.maxQueue) {
      return Promise.reject(
        overloaded(`${operation.kind} queue is full (${this.options.maxQueue} waiting); ${operation.name} was not run, retry later`),
      );
    }
    let args: ArgsOf<O>;
    try {
      args = build();
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
    return target.submit(operation.name, args, signal) as Promise<ResultOf<O>>;
  }

  stats(): StoreStats {
    return {
      engine: 'sqlite',
      queues: { read: this.#readers.queueDepth, write: this.#writer.queueDepth },
      batches: { read: this.#stats.readBatches.summary(), write: this.#stats.writeBatches.summary() },
      latency: this.#stats.latency(),
      wal: { bytes: this.#writer.walBytes, peakBytes: this.#writer.peakWalBytes },
      restarts: { readers: this.#readers.restarts, writer: this.#writer.restarts },
      readers: this.options.readers,
      limits: { maxPayloadBytes: this.options.maxPayloadBytes, maxStateBytes: this.options.maxStateBytes },
    };
  }

  resetStats(): void {
    this.#stats.reset();
  }

  check(): Promise<CheckReport> {
    if (this.#closing !== undefined) return Promise.reject(new StoreError('CLOSED', 'store is closed'));
    return this.#writer.check();
  }

  /** Stops accepting calls, drains accepted ones, closes the readers, then the writer. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([this.#readers.drain(), this.#writer.drain()]);
      await this.#readers.close();
      await this.#writer.close();
    })();
    return this.#closing;
  }

  /** Threads, for tests that kill them on purpose. */
  get threads(): { writer: Worker; readers: Worker[] } {
    if (!(this.#writer instanceof WriterClient) || !(this.#readers instanceof ReadPool)) {
      throw new Error('this engine runs in-process: it has no threads');
    }
    return { writer: this.#writer.thread, readers: this.#readers.threads };
  }
}
