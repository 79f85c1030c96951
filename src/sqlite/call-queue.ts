import { performance } from 'node:perf_hooks';
import { aborted, fromWireError, type StoreError } from '../api/errors.js';
import type { CallTrace } from '../api/engine.js';
import type { EngineStats } from '../diagnostics/engine-stats.js';
import type { Outcome } from './protocol.js';
import { Queue } from './queue.js';

/** An accepted call waiting for its worker's answer. */
export interface PendingCall {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: StoreError) => void;
  /** performance.now() when accepted, for the latency histogram. */
  readonly start: number;
  /** Filled in when the call is sent, for a span that records it. */
  readonly trace: CallTrace | undefined;
}

/**
 * A thread as the engine lets tests see it: they end one on purpose, and check it is
 * gone (`threadId` -1). A Node `Worker` is one.
 */
export interface ThreadHandle {
  readonly threadId: number;
  terminate(): Promise<number>;
}

/**
 * What the read pool and the writer client share: a FIFO of accepted calls, one
 * deferred flush however many calls arrive in the meantime, settling each call with
 * its latency recorded, and `drain()` for close. Subclasses decide when a flush runs
 * and what it sends: the read pool spreads batches over its readers, the writer client
 * sends one group-commit batch at a time.
 */
export abstract class CallQueue {
  protected readonly stats: EngineStats;
  readonly #queue = new Queue<PendingCall>();
  #scheduled = false;
  #idleWaiters: (() => void)[] = [];

  constructor(stats: EngineStats) {
    this.stats = stats;
  }

  /** Calls accepted and not yet sent to a worker. */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /**
   * Queues one call; the promise settles with the worker's answer. A `signal` that
   * aborts while the call still waits here withdraws it (ABORTED); once sent, it runs.
   */
  submit(name: string, args: readonly unknown[], signal?: AbortSignal, trace?: CallTrace): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ name, args, resolve, reject, start: performance.now(), trace }, signal, this.#withdrawn);
      this.accepted();
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.schedule(this.#scheduledFlush);
      }
    });
  }

  /** A call whose signal aborted while it waited: it was never sent, so it never ran. */
  readonly #withdrawn = (call: PendingCall, signal: AbortSignal): void => {
    // No flush here: whatever the queue waits for (a batch in flight, a writer starting,
    // the flush already scheduled) flushes it next, and settles drain() when it empties.
    this.fail(call, aborted(call.name, signal));
  };

  readonly #scheduledFlush = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Runs after each call joins the queue, before its flush is scheduled. */
  protected accepted(): void {}

  /** Defers a flush: to a microtask, or to the end of this turn of the event loop. */
  protected abstract schedule(flush: () => void): void;

  /** Sends what may go now; wakes `drain()` once nothing is queued or in flight. */
  protected abstract flush(): void;

  /** True while a batch is with a worker. */
  protected abstract get busy(): boolean;

  /** Removes and returns up to `count` calls from the front. */
  protected take(count: number): PendingCall[] {
    const batch = this.#queue.take(count);
    let sent: number | undefined;
    for (const call of batch) {
      if (call.trace === undefined) continue;
      call.trace.sent = sent ??= performance.now();
      call.trace.batch = batch.length;
    }
    return batch;
  }

  /** Settles a batch with its worker's outcomes, in order. */
  protected settle(batch: readonly PendingCall[], outcomes: readonly Outcome[]): void {
    const now = performance.now();
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) this.succeed(batch[i]!, outcome.value, now);
      else this.fail(batch[i]!, fromWireError(outcome.error), now);
    }
  }

  /** `now`: when the answer came (a performance.now() reading), read once for a whole batch. */
  protected succeed(call: PendingCall, value: unknown, now = performance.now()): void {
    this.stats.recordLatency(call.name, call.start, now);
    call.resolve(value);
  }

  protected fail(call: PendingCall, error: StoreError, now = performance.now()): void {
    this.stats.recordLatency(call.name, call.start, now);
    call.reject(error);
  }

  /** Fails every call of a batch. */
  protected failBatch(batch: readonly PendingCall[], error: StoreError): void {
    const now = performance.now();
    for (const call of batch) this.fail(call, error, now);
  }

  /** Fails every call still waiting in the queue. */
  protected failQueued(error: StoreError): void {
    this.failBatch(this.#queue.drain(), error);
  }

  /** True when nothing is queued or in flight. */
  protected get idle(): boolean {
    return !this.busy && this.queueDepth === 0;
  }

  /** Resolves whoever waits in `drain()`, if the queue has gone idle. */
  protected wakeDrainers(): void {
    if (this.#idleWaiters.length > 0 && this.idle) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once every accepted call has settled. */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
