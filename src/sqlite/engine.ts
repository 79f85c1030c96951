import type { CheckReport } from './check.js';
import { aborted, overloaded, StoreError, toStoreError } from '../api/errors.js';
import type { ResolvedOptions } from '../api/options.js';
import type { ArgsOf, CallTrace, OperationRef, ResultOf, StoreEngine } from '../api/engine.js';
import type { BackupResult, StoreStats } from '../api/types.js';
import { ChangeFeed, type ChangeListener, type ChangeSubscription } from '../api/change-feed.js';
import { runSnapshotOnThread } from './backup-thread.js';
import { Backups } from './backups.js';
import type { ThreadHandle } from './call-queue.js';
import { EngineStats } from '../diagnostics/engine-stats.js';
import { operations } from '../catalogue/index.js';
import { ReadPool, wireCodecsOf, type ReadPoolLimits, type ReadWorkers } from './read-pool.js';
import type { ReaderConfig } from './reader-thread.js';
import { piscinaReaders, spawnWriterThread } from './threads.js';
import { WriterClient, type SpawnWriter, type WriterLimits } from './writer-client.js';
import type { WriterConfig } from './writer-thread.js';
import { walWatch } from './wal-watch.js';

/** How the readers' packed results are unpacked on this thread (they pack with the same catalogue). */
const WIRE_CODECS = wireCodecsOf(operations);

export type { StoreStats };

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
      fileMode: options.fileMode,
    },
    reader: { path: options.path, busyTimeoutMs: options.busyTimeoutMs },
    writeQueue: { maxBatch: options.maxWriteBatch },
    readPool: {
      readers: options.readers,
      maxBatch: options.maxReadBatch,
      nice: options.readerNice,
      resourceLimits: options.readerResourceLimits,
    },
  };
}

/** What the engine starts its threads with: the real ones, or in tests threads on this one. */
export interface EngineThreads {
  spawnWriter: SpawnWriter;
  readers(config: ReaderConfig, limits: ReadPoolLimits): ReadWorkers;
}

const REAL_THREADS: EngineThreads = { spawnWriter: spawnWriterThread, readers: piscinaReaders };


/**
 * Routes each operation to the read pool or the writer by its kind. Nothing on the
 * caller's thread runs SQL: this only queues, batches and settles.
 */
export class Engine implements StoreEngine {
  readonly kind = 'sqlite';
  readonly options: ResolvedOptions;
  readonly #stats: EngineStats;
  readonly #writer: WriterClient;
  readonly #readers: ReadPool;
  readonly #backups: Backups;
  readonly #changes: ChangeFeed;
  #closing: Promise<void> | undefined;

  /** @internal {@link Engine.start} builds the real one; tests also build one on in-process threads. */
  constructor(options: ResolvedOptions, stats: EngineStats, writer: WriterClient, readers: ReadPool) {
    this.options = options;
    this.#stats = stats;
    this.#writer = writer;
    this.#readers = readers;
    // One writer runs the writes in the order they were queued: a claim a new task wakes
    // queues behind the task's create (see ChangeFeed).
    this.#changes = new ChangeFeed(walWatch(options.path, () => writer.foreignCommits()), { inOrder: true });
    this.#backups = new Backups({ path: options.path, fileMode: options.fileMode, busyTimeoutMs: options.busyTimeoutMs, maxQueue: options.maxQueue }, runSnapshotOnThread);
  }

  get location(): string {
    return this.options.path;
  }

  /**
   * Starts the writer (which applies the schema), then the readers. A start that fails
   * leaves nothing running: the readers that did start and the writer are closed first.
   */
  static async start(options: ResolvedOptions, threads: EngineThreads = REAL_THREADS): Promise<Engine> {
    const config = engineConfig(options);
    const stats = new EngineStats();
    const writer = await WriterClient.start(config.writer, config.writeQueue, stats, threads.spawnWriter);
    let readers: ReadPool | undefined;
    try {
      readers = new ReadPool(threads.readers(config.reader, config.readPool), config.readPool, stats, WIRE_CODECS);
      await readers.warmUp();
    } catch (error) {
      // Readers before the writer, as close() does; the start's own error is the one to report.
      await readers?.close().catch(() => {});
      await writer.close().catch(() => {});
      throw error;
    }
    return new Engine(options, stats, writer, readers);
  }

  /**
   * Runs one catalogue operation. `build` checks and assembles the arguments; if it
   * throws, the promise rejects and nothing is queued. A `signal` that aborts while the
   * call still waits in its queue withdraws it (ABORTED); once sent, it runs to the end.
   */
  call<O extends OperationRef>(operation: O, build: () => ArgsOf<O>, signal?: unknown, trace?: CallTrace): Promise<ResultOf<O>> {
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
    const result = target.submit(operation.name, args, signal, trace) as Promise<ResultOf<O>>;
    if (operation.kind === 'write') this.#changes.observeWrite(operation.name, args, result);
    return result;
  }

  watchChanges(listener: ChangeListener): ChangeSubscription {
    return this.#changes.subscribe(listener);
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

  /** Copies the database to a new file, on a thread and a connection of the backup's own. */
  backup(path: string, signal?: AbortSignal): Promise<BackupResult> {
    if (this.#closing !== undefined) return Promise.reject(new StoreError('CLOSED', 'store is closed; backup was not run'));
    return this.#backups.backup(path, signal);
  }

  /** Stops accepting calls, drains accepted ones, closes the readers, then the writer. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#changes.close();
      await Promise.all([this.#readers.drain(), this.#writer.drain(), this.#backups.close()]);
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
