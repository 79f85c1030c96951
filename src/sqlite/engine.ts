import type { CheckReport } from '../diagnostics/check.js';
import type { ArgsOf, Operation, ResultOf } from '../catalogue/operation.js';
import { StoreError } from '../api/errors.js';
import type { ResolvedOptions } from '../api/options.js';
import type { ThreadHandle } from './call-queue.js';
import { EngineStats, type BatchSummary, type LatencySummary } from './engine-stats.js';
import { ReadPool, type ReadPoolLimits } from './read-pool.js';
import { threadReaders, spawnWriterThread } from './threads.js';
import type { ReaderConfig } from './reader-thread.js';
import { WriterClient, type WriterLimits } from './writer-client.js';
import type { WriterConfig } from './writer-thread.js';

export interface StoreStats {
  /** Calls accepted and waiting for a worker. */
  queues: { read: number; write: number };
  /** Reads per reader message and writes per commit since the last reset. */
  batches: { read: BatchSummary; write: BatchSummary };
  /** Per-operation latency on the caller's side, in microseconds: accepted → settled. */
  latency: Record<string, LatencySummary>;
  /** The WAL file after the last commit, and the largest it has been. */
  wal: { bytes: number; peakBytes: number };
  /** Threads started to replace ones that died. */
  restarts: { readers: number; writer: number };
  readers: number;
}

/** What the engine's parts are built from: the store's options, split per part. */
export interface EngineConfig {
  /** Sent to each writer thread when it starts. */
  writer: WriterConfig;
  /** Sent to each reader thread as its `workerData`. */
  reader: ReaderConfig;
  writeQueue: WriterLimits;
  readPool: ReadPoolLimits;
}

/** The one place the store's options become the writer's and readers' configuration. */
export function engineConfig(options: ResolvedOptions): EngineConfig {
  return {
    writer: {
      path: options.path,
      synchronous: options.synchronous,
      busyTimeoutMs: options.busyTimeoutMs,
      journalSizeLimit: options.journalSizeLimit,
      walLimitBytes: options.walLimitBytes,
      checkpointIntervalMs: options.checkpointIntervalMs,
      manageWal: options.manageWal,
    },
    reader: { path: options.path, busyTimeoutMs: options.busyTimeoutMs },
    writeQueue: { maxBatch: options.maxWriteBatch },
    readPool: { readers: options.readers, maxBatch: options.maxReadBatch, nice: options.readerNice },
  };
}

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
export class Engine {
  readonly options: ResolvedOptions;
  readonly #stats: EngineStats;
  readonly #writer: WriterClient;
  readonly #readers: ReadPool;
  #closing: Promise<void> | undefined;

  /** @internal {@link Engine.start} builds the real one; tests also build one on in-process threads. */
  constructor(options: ResolvedOptions, stats: EngineStats, writer: WriterClient, readers: ReadPool) {
    this.options = options;
    this.#stats = stats;
    this.#writer = writer;
    this.#readers = readers;
  }

  /** Starts the writer (which applies the schema), then the readers. */
  static async start(options: ResolvedOptions): Promise<Engine> {
    const config = engineConfig(options);
    const stats = new EngineStats();
    const writer = await WriterClient.start(config.writer, config.writeQueue, stats, spawnWriterThread);
    const readers = new ReadPool(threadReaders(config.reader, config.readPool), config.readPool, stats);
    await readers.warmUp();
    return new Engine(options, stats, writer, readers);
  }

  /**
   * Runs one catalogue operation. `build` checks and assembles the arguments; if it
   * throws, the promise rejects and nothing is queued.
   */
  call<O extends Operation>(operation: O, build: () => ArgsOf<O>): Promise<ResultOf<O>> {
    if (this.#closing !== undefined) {
      return Promise.reject(new StoreError('CLOSED', `store is closed; ${operation.name} was not run`));
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
      return Promise.reject(error);
    }
    return target.submit(operation.name, args) as Promise<ResultOf<O>>;
  }

  stats(): StoreStats {
    return {
      queues: { read: this.#readers.queueDepth, write: this.#writer.queueDepth },
      batches: { read: this.#stats.readBatches.summary(), write: this.#stats.writeBatches.summary() },
      latency: this.#stats.latency(),
      wal: { bytes: this.#writer.walBytes, peakBytes: this.#writer.peakWalBytes },
      restarts: { readers: this.#readers.restarts, writer: this.#writer.restarts },
      readers: this.options.readers,
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
  get threads(): { writer: ThreadHandle; readers: readonly ThreadHandle[] } {
    return { writer: this.#writer.thread, readers: this.#readers.threads };
  }
}
