import { performance } from 'node:perf_hooks';
import { fromWireError, StoreError, toStoreError, type WireError } from '../api/errors.js';
import { CallQueue, type PendingCall, type ThreadHandle } from './call-queue.js';
import type { ReaderResourceLimits } from '../api/types.js';
import type { Operation, WireCodec } from '../catalogue/operation.js';
import type { EngineStats } from '../diagnostics/engine-stats.js';
import { appendCall, type ReadBatchRequest, type ReadBatchResponse } from './protocol.js';

/**
 * Batches in flight per reader. With two, a reader starts its next batch while the
 * caller's thread is still settling the last one, instead of waiting for it to wake up
 * and send more (measured: 9-27% more reads per second at 64 callers in A/B runs).
 */
export const DEPTH = 2;

export interface ReadPoolLimits {
  readers: number;
  maxBatch: number;
  /** Added to the readers' nice value (Linux): the caller's thread wins a busy CPU. */
  nice: number;
  /** Each reader thread's heap and stack limits (Piscina's `resourceLimits`). */
  resourceLimits?: ReaderResourceLimits;
}

/** By operation name, how the readers pack results that they send packed (the catalogue's `wire`). */
export type WireCodecs = ReadonlyMap<string, WireCodec>;

/** The wire codecs of `operations`: those that have one. */
export function wireCodecsOf(operations: readonly Operation[]): WireCodecs {
  const codecs = new Map<string, WireCodec>();
  for (const operation of operations) if (operation.wire !== undefined) codecs.set(operation.name, operation.wire);
  return codecs;
}

/**
 * Where a read pool runs its batches: the serve tasks of the Piscina pool (ReaderChannels),
 * or in tests this thread. A batch whose reader died rejects; one whose reader could not
 * start rejects with a StoreError that says why.
 */
export interface ReadWorkers {
  run(request: ReadBatchRequest): Promise<ReadBatchResponse>;
  /** Readers that became ready so far, the first ones included. */
  readonly started: number;
  readonly threads: readonly ThreadHandle[];
  /** Ends every reader, and their threads. */
  destroy(): Promise<void>;
}

/** A batch's rejection as its reads' error: a reader's own StoreError, or WORKER_CRASHED for a death. */
function readerError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError('WORKER_CRASHED', `reader thread died during the read: ${message}`, { cause: error });
}

/**
 * Coalesces reads into batches and runs them on the reader threads.
 *
 * Reads issued in the same tick are flushed together in a microtask (no timer: a lone
 * read goes out at once). At most DEPTH batches per reader are in flight; while every
 * reader is busy, new reads wait here, so batches grow with load and shrink when it
 * drops.
 */
export class ReadPool extends CallQueue {
  readonly #workers: ReadWorkers;
  readonly #limits: ReadPoolLimits;
  readonly #codecs: WireCodecs;
  #inFlight = 0;

  /** `codecs`: how to unpack the results the readers send packed (ReadExecutor packs them). */
  constructor(workers: ReadWorkers, limits: ReadPoolLimits, stats: EngineStats, codecs: WireCodecs = new Map()) {
    super(stats);
    this.#workers = workers;
    this.#limits = limits;
    this.#codecs = codecs;
  }

  /** Reader threads started to replace ones that died. */
  get restarts(): number {
    return Math.max(0, this.#workers.started - this.#limits.readers);
  }

  /** The live reader threads (tests terminate them on purpose). */
  get threads(): readonly ThreadHandle[] {
    return this.#workers.threads;
  }

  protected get busy(): boolean {
    return this.#inFlight > 0;
  }

  // Idle pool: go at once (after this tick's other reads join). Busy pool: wait for the
  // rest of this turn of the event loop, so the reads its callbacks issue go together
  // rather than one at a time to whichever reader frees first.
  protected schedule(flush: () => void): void {
    if (this.#inFlight === 0) queueMicrotask(flush);
    else setImmediate(flush);
  }

  protected flush(): void {
    const { readers, maxBatch } = this.#limits;
    const slots = readers * DEPTH;
    // Spread what is waiting over the free readers rather than filling one.
    while (this.queueDepth > 0 && this.#inFlight < slots) {
      const size = Math.min(maxBatch, Math.ceil(this.queueDepth / (slots - this.#inFlight)));
      this.#send(this.take(size));
    }
    this.wakeDrainers();
  }

  #send(batch: PendingCall[]): void {
    this.#inFlight++;
    this.stats.readBatches.add(batch.length);
    const request: ReadBatchRequest = [];
    for (const call of batch) appendCall(request, call.name, call.args);
    this.#workers.run(request).then(
      (response) => {
        this.#inFlight--;
        // The response is flat: for each call, 1 and its value or 0 and its WireError.
        const now = performance.now();
        for (let i = 0; i < batch.length; i++) {
          const call = batch[i]!;
          const value = response[2 * i + 1];
          if (response[2 * i] !== 1) this.fail(call, fromWireError(value as WireError), now);
          else if (value === undefined || this.#codecs.size === 0) this.succeed(call, value, now);
          else this.#unpacked(call, value, now);
        }
        this.flush();
      },
      (error: unknown) => {
        // The reader died with this batch (only its calls fail, and it is replaced), or
        // could not start (the error says why).
        this.#inFlight--;
        this.failBatch(batch, readerError(error));
        this.flush();
      },
    );
  }

  #unpacked(call: PendingCall, value: unknown, now: number): void {
    const codec = this.#codecs.get(call.name);
    if (codec === undefined) {
      this.succeed(call, value, now);
      return;
    }
    try {
      this.succeed(call, codec.unpack(value as unknown[]), now);
    } catch (error) {
      this.fail(call, toStoreError(error), now);
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#workers.destroy();
  }

  /** Resolves once every reader has opened its connection: an empty batch each; rejects as a read would. */
  async warmUp(): Promise<void> {
    try {
      await Promise.all(Array.from({ length: this.#limits.readers * DEPTH }, () => this.#workers.run([])));
    } catch (error) {
      throw readerError(error);
    }
  }
}
