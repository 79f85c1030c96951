import { wrap, type Remote } from 'comlink';
import { nodeEndpoint } from './node-endpoint.js';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { CheckReport } from '../diagnostics/check.js';
import { aborted, fromWireError, StoreError } from '../api/errors.js';
import { workerFile } from '../paths.js';
import type { OperationCall, WriteBatchResponse } from './protocol.js';
import type { WriterApi, WriterConfig } from './writer-thread.js';
import type { EngineStats } from './engine-stats.js';
import { fail, settle, type PendingCall } from './pending-call.js';
import { Queue } from './queue.js';
import type { WriterTarget } from './targets.js';

export interface WriterLimits {
  maxBatch: number;
}

/** Consecutive writer threads that may die while starting before queued writes are failed. */
const RESTART_ATTEMPTS = 5;

/** One writer thread and the promise that rejects when it exits. */
interface WriterThread {
  readonly worker: Worker;
  readonly remote: Remote<WriterApi>;
  readonly exited: Promise<never>;
}

type WriterState = 'starting' | 'ready' | 'down' | 'closed';

/**
 * The caller's side of the writer thread. Writes wait in a bounded queue; whenever the
 * writer is free, everything waiting (up to `maxBatch`) goes over as one group-commit
 * batch, so batches grow with load. Promises settle only once the writer answered,
 * after its COMMIT.
 *
 * If the writer thread dies, the batch it held rejects with OUTCOME_UNKNOWN (it may or
 * may not have committed), a fresh writer starts, and the writes still waiting here go
 * to it.
 */
export class WriterClient implements WriterTarget {
  readonly #config: WriterConfig;
  readonly #limits: WriterLimits;
  readonly #stats: EngineStats;
  readonly #queue = new Queue<PendingCall>();
  #thread!: WriterThread;
  #state: WriterState = 'starting';
  #starting: Promise<void> | undefined;
  #restarting: Promise<void> | undefined;
  #inFlight: PendingCall[] | undefined;
  #scheduled = false;
  #idleWaiters: (() => void)[] = [];
  #refed = true;
  #adminCalls = 0;
  #restarts = 0;
  walBytes = 0;
  peakWalBytes = 0;

  private constructor(config: WriterConfig, limits: WriterLimits, stats: EngineStats) {
    this.#config = config;
    this.#limits = limits;
    this.#stats = stats;
  }

  /** Starts the writer thread and opens the database; rejects if it cannot. */
  static async start(config: WriterConfig, limits: WriterLimits, stats: EngineStats): Promise<WriterClient> {
    const client = new WriterClient(config, limits, stats);
    await client.#spawn();
    return client;
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** The current writer thread (tests terminate it on purpose). */
  get thread(): Worker {
    return this.#thread.worker;
  }

  submit(name: string, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ name, args, resolve, reject, start: performance.now() }, signal, this.#withdrawn);
      this.#setRef(true);
      if (this.#state === 'down') void this.#restart();
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#flush);
      }
    });
  }

  /** A write whose signal aborted while it waited: it was never sent, so it never ran. */
  readonly #withdrawn = (call: PendingCall, signal: AbortSignal): void => {
    // No flush here: whatever the queue waits for (a batch in flight, a writer starting,
    // the flush already scheduled) flushes it next, and settles drain() when it empties.
    fail(call, aborted(call.name, signal), this.#stats);
  };

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#inFlight !== undefined) return;
    if (this.#queue.length > 0) {
      if (this.#state === 'ready') this.#send(this.#queue.take(this.#limits.maxBatch));
      return;
    }
    // Idle: let the process exit if nothing else holds it.
    if (this.#adminCalls === 0) this.#setRef(false);
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  };

  #setRef(ref: boolean): void {
    if (ref === this.#refed) return;
    this.#refed = ref;
    if (ref) this.#thread.worker.ref();
    else this.#thread.worker.unref();
  }

  #send(batch: PendingCall[]): void {
    this.#inFlight = batch;
    this.#stats.writeBatches.add(batch.length);
    const { remote, exited } = this.#thread;
    const calls = batch.map((call): OperationCall => [call.name, call.args]);
    Promise.race([remote.execute(calls), exited]).then(
      (response: WriteBatchResponse) => {
        this.#inFlight = undefined;
        this.walBytes = response.walBytes;
        if (response.walBytes > this.peakWalBytes) this.peakWalBytes = response.walBytes;
        for (let i = 0; i < batch.length; i++) settle(batch[i]!, response.outcomes[i]!, this.#stats);
        this.#flush();
      },
      (error: unknown) => {
        this.#inFlight = undefined;
        const unknown = new StoreError(
          'OUTCOME_UNKNOWN',
          `writer thread died while committing; the write may or may not have been applied (${errorText(error)})`,
        );
        for (const call of batch) fail(call, unknown, this.#stats);
        // The exit handler restarts the writer; the queue flushes once it is ready.
        this.#flush();
      },
    );
  }

  #spawn(): Promise<void> {
    this.#state = 'starting';
    const worker = new Worker(workerFile('writer'));
    // Failures surface through 'exit'; an 'error' event without a listener would throw here.
    worker.on('error', () => {});
    const exited = new Promise<never>((_, reject) => {
      worker.once('exit', (code) => {
        reject(new StoreError('WORKER_CRASHED', `writer thread exited with code ${code}`));
        this.#onExit(worker);
      });
    });
    exited.catch(() => {});
    const thread: WriterThread = { worker, remote: wrap<WriterApi>(nodeEndpoint(worker)), exited };
    this.#thread = thread;
    this.#refed = true;
    this.#starting = Promise.race([thread.remote.open(this.#config), exited]).then(
      async (result) => {
        if (!result.ok) {
          this.#state = 'down';
          await worker.terminate();
          throw fromWireError(result.error);
        }
        this.#state = 'ready';
        this.#flush();
      },
      (error: unknown) => {
        this.#state = 'down';
        throw error;
      },
    );
    return this.#starting;
  }

  #onExit(worker: Worker): void {
    if (worker !== this.#thread.worker || this.#state === 'closed' || this.#state === 'down') return;
    this.#restarts++;
    // A writer that dies while starting fails its own start, and whoever started it
    // (openStore, or the restart loop) decides what next.
    if (this.#state === 'starting') return;
    this.#state = 'down';
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
    if (this.#state !== 'down') return;
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
        const down = new StoreError(code, `writer thread could not restart: ${errorText(error)}`);
        for (const call of this.#queue.drain()) fail(call, down, this.#stats);
        this.#flush();
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

  /** A call outside the write queue; the thread is held referenced until it answers. */
  async #admin<T>(call: (remote: Remote<WriterApi>) => Promise<T>): Promise<T> {
    this.#adminCalls++;
    this.#setRef(true);
    try {
      const { remote, exited } = await this.#ready();
      return await Promise.race([call(remote), exited]);
    } finally {
      this.#adminCalls--;
      if (this.#adminCalls === 0 && this.#inFlight === undefined && this.#queue.length === 0) this.#setRef(false);
    }
  }

  /** Resolves once every accepted write has settled. */
  drain(): Promise<void> {
    if (this.#inFlight === undefined && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drains, truncates the WAL, closes the connection and ends the thread. */
  async close(): Promise<void> {
    await this.drain();
    const { worker, remote, exited } = this.#thread;
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    // Hold the process open until the thread has closed the database and exited.
    this.#setRef(true);
    try {
      if (wasReady) await Promise.race([remote.close(), exited]);
    } finally {
      await worker.terminate();
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
