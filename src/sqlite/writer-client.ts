import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckReport } from './check.js';
import { fromWireError, StoreError } from '../api/errors.js';
import { CallQueue, type PendingCall, type ThreadHandle } from './call-queue.js';
import type { EngineStats } from '../diagnostics/engine-stats.js';
import type { OperationCall, WriteBatchResponse } from './protocol.js';
import type { Writer, WriterConfig } from './writer-thread.js';

export interface WriterLimits {
  maxBatch: number;
}

/** The writer's methods as the caller's thread calls them: each answer comes later. */
export type WriterRemote = {
  [K in 'open' | 'execute' | 'check' | 'foreignCommits' | 'close']: (...args: Parameters<Writer[K]>) => Promise<ReturnType<Writer[K]>>;
};

/** One writer thread. */
export interface WriterThread extends ThreadHandle {
  readonly remote: WriterRemote;
  /** Rejects with WORKER_CRASHED when the thread exits. */
  readonly exited: Promise<never>;
  /** Whether the thread holds the process open. */
  ref(): void;
  unref(): void;
}

/** Starts a writer thread; `onExit` runs when it exits, once `exited` has rejected. */
export type SpawnWriter = (onExit: () => void) => WriterThread;

/** Consecutive writer threads that may die while starting before queued writes are failed. */
const RESTART_ATTEMPTS = 5;

/**
 * The writer's lifecycle: down → starting → ready → down … until closed. Every move goes
 * through `#moveTo`, which never leaves `closed`: a restart or a spawn handler that runs
 * after close() cannot bring a writer back.
 */
type WriterState = 'starting' | 'ready' | 'down' | 'closed';

/**
 * The caller's side of the writer thread. Writes wait in a bounded queue; whenever the
 * writer is free, everything waiting (up to `maxBatch`) goes over as one group-commit
 * batch, so batches grow with load. Promises settle only once the writer answered,
 * after its COMMIT.
 *
 * If the writer thread dies, the batch it held rejects with OUTCOME_UNKNOWN (it may or
 * may not have committed), a fresh writer starts, and the writes still waiting here go
 * to it. Once closed, no writer starts again.
 */
export class WriterClient extends CallQueue {
  readonly #config: WriterConfig;
  readonly #limits: WriterLimits;
  readonly #spawnThread: SpawnWriter;
  #thread!: WriterThread;
  #state: WriterState = 'down';
  #starting: Promise<void> | undefined;
  #restarting: Promise<void> | undefined;
  #inFlight: PendingCall[] | undefined;
  /** The writer answered and no batch has gone since: the callers it answered are writing again. */
  #answered = false;
  #refed = true;
  #adminCalls = 0;
  #restarts = 0;
  walBytes = 0;
  peakWalBytes = 0;

  private constructor(config: WriterConfig, limits: WriterLimits, stats: EngineStats, spawn: SpawnWriter) {
    super(stats);
    this.#config = config;
    this.#limits = limits;
    this.#spawnThread = spawn;
  }

  /** Starts the writer thread and opens the database; rejects if it cannot. */
  static async start(config: WriterConfig, limits: WriterLimits, stats: EngineStats, spawn: SpawnWriter): Promise<WriterClient> {
    const client = new WriterClient(config, limits, stats, spawn);
    await client.#spawn();
    return client;
  }

  /** Writer threads started to replace ones that died. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The current writer thread (tests terminate it on purpose). */
  get thread(): ThreadHandle {
    return this.#thread;
  }

  protected get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  protected override accepted(): void {
    this.#setRef(true);
    if (this.#state === 'down') void this.#restart();
  }

  // A write goes at once (after this tick's other writes join) unless a batch is with the
  // writer or the writer has answered since the last batch went: then it waits for the
  // end of this turn of the event loop, so the writes of every caller the answer woke go
  // as one batch. Flushed in a microtask, the first of them would go alone and the rest
  // wait a whole batch for it (measured: batches of 1 and 63 in turn, mean 31, at 64
  // writers). A write after a quiet spell therefore waits one turn, microseconds on an
  // idle loop.
  protected schedule(flush: () => void): void {
    if (this.#inFlight === undefined && !this.#answered) queueMicrotask(flush);
    else setImmediate(flush);
  }

  protected flush(): void {
    if (this.#inFlight !== undefined) return;
    if (this.queueDepth > 0) {
      if (this.#state === 'ready') this.#send(this.take(this.#limits.maxBatch));
      return;
    }
    // Idle: let the process exit if nothing else holds it.
    if (this.#adminCalls === 0) this.#setRef(false);
    this.wakeDrainers();
  }

  #setRef(ref: boolean): void {
    if (ref === this.#refed) return;
    this.#refed = ref;
    if (ref) this.#thread.ref();
    else this.#thread.unref();
  }

  #send(batch: PendingCall[]): void {
    this.#inFlight = batch;
    this.#answered = false;
    this.stats.writeBatches.add(batch.length);
    const { remote, exited } = this.#thread;
    const calls = batch.map((call): OperationCall => [call.name, call.args]);
    Promise.race([remote.execute(calls), exited]).then(
      (response: WriteBatchResponse) => {
        this.#inFlight = undefined;
        this.#answered = true;
        this.walBytes = response.walBytes;
        if (response.walBytes > this.peakWalBytes) this.peakWalBytes = response.walBytes;
        this.settle(batch, response.outcomes);
        this.flush();
      },
      (error: unknown) => {
        this.#inFlight = undefined;
        this.failBatch(
          batch,
          new StoreError(
            'OUTCOME_UNKNOWN',
            `writer thread died while committing; the write may or may not have been applied (${errorText(error)})`,
          ),
        );
        // The exit handler restarts the writer; the queue flushes once it is ready.
        this.flush();
      },
    );
  }

  /** The one place the lifecycle moves; false, and nothing changes, once closed. */
  #moveTo(next: WriterState): boolean {
    if (this.#state === 'closed') return false;
    this.#state = next;
    return true;
  }

  #spawn(): Promise<void> {
    if (!this.#moveTo('starting')) return Promise.reject(new StoreError('CLOSED', 'the writer is closed; no writer starts again'));
    const thread: WriterThread = this.#spawnThread(() => this.#onExit(thread));
    this.#thread = thread;
    this.#refed = true;
    this.#starting = Promise.race([thread.remote.open(this.#config), thread.exited]).then(
      async (result) => {
        if (!result.ok) {
          this.#moveTo('down');
          await thread.terminate();
          throw fromWireError(result.error);
        }
        // close() waits while a writer is starting, so this move always succeeds.
        this.#moveTo('ready');
        this.flush();
      },
      (error: unknown) => {
        this.#moveTo('down');
        throw error;
      },
    );
    return this.#starting;
  }

  #onExit(thread: WriterThread): void {
    if (thread !== this.#thread || this.#state === 'closed' || this.#state === 'down') return;
    this.#restarts++;
    // A writer that dies while starting fails its own start, and whoever started it
    // (openStore, or the restart loop) decides what next.
    if (this.#state === 'starting') return;
    this.#moveTo('down');
    void this.#restart();
  }

  /** Starts a fresh writer; one restart at a time, however many callers ask. */
  #restart(): Promise<void> {
    this.#restarting ??= this.#restartLoop().finally(() => {
      this.#restarting = undefined;
    });
    return this.#restarting;
  }

  async #restartLoop(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#spawn();
        return;
      } catch (error) {
        // A thread that died while starting is retried, as any dead writer is; a
        // database that will not open, or a writer that keeps dying, is not.
        const died = error instanceof StoreError && error.code === 'WORKER_CRASHED';
        if (died && attempt < RESTART_ATTEMPTS) {
          await sleep(10 * attempt);
          continue;
        }
        // No writer: nothing waiting may stay pending. The next write tries again.
        const code = error instanceof StoreError && !died ? error.code : 'WORKER_CRASHED';
        this.failQueued(new StoreError(code, `writer thread could not restart: ${errorText(error)}`));
        this.flush();
        return;
      }
    }
  }

  async #ready(): Promise<WriterThread> {
    if (this.#state === 'down') await this.#restart();
    if (this.#state === 'starting') await this.#starting;
    if (this.#state !== 'ready') throw new StoreError('WORKER_CRASHED', 'writer thread is not running');
    return this.#thread;
  }

  /** Verifies the database between batches. */
  check(): Promise<CheckReport> {
    return this.#admin((remote) => remote.check());
  }

  /** Whether another connection has committed since the last ask (see Writer.foreignCommits); between batches. */
  foreignCommits(): Promise<boolean> {
    return this.#admin((remote) => remote.foreignCommits());
  }

  /** A call outside the write queue; the thread is held referenced until it answers. */
  async #admin<T>(call: (remote: WriterRemote) => Promise<T>): Promise<T> {
    this.#adminCalls++;
    this.#setRef(true);
    try {
      const { remote, exited } = await this.#ready();
      return await Promise.race([call(remote), exited]);
    } finally {
      this.#adminCalls--;
      if (this.#adminCalls === 0 && this.idle) this.#setRef(false);
    }
  }

  /**
   * Drains, truncates the WAL, closes the connection and ends the thread. A writer that
   * is starting (a restart after a death) finishes opening first and is closed as any
   * other; a restart waiting to try again starts nothing once closed.
   */
  async close(): Promise<void> {
    await this.drain();
    while (this.#state === 'starting') await this.#starting!.catch(() => {});
    const thread = this.#thread;
    const wasReady = this.#state === 'ready';
    this.#moveTo('closed');
    // Hold the process open until the thread has closed the database and exited.
    this.#setRef(true);
    try {
      if (wasReady) await Promise.race([thread.remote.close(), thread.exited]);
    } finally {
      await thread.terminate();
      // A restart between two attempts finds the writer closed and ends (it never rejects).
      await this.#restarting;
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
