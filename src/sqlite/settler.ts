import { performance } from 'node:perf_hooks';

/**
 * How long one slice of settling may hold the caller's thread before it yields, in ms.
 * Half a millisecond: one turn of the event loop can hold this slice, a reader's intake
 * (as long again), a scavenge and the continuations already queued, so the timers' delay
 * is several slices. Against 1 ms, the ADK Runner's loop p99 was lower in 9 of 9 trials
 * (4.1–5.3 ms against 4.6–6.6 ms) at about the same CPU per turn; at 0.25 ms the caller's
 * CPU per turn rose by a sixth (docs/PERFORMANCE.md, "The settler's slice").
 */
export const SLICE_MS = 0.5;

/** One microtask turn: awaiting it lets the continuations already queued run first. */
const TURN = Promise.resolve();

/** What a settled promise does next: a function of `value` (its resolve or reject). */
type Settle = (value: unknown) => void;

/**
 * Settles promises in bounded slices, one queue for every answer of the process.
 *
 * A batch of 64 reads that comes back used to be settled in one loop, and every caller's
 * continuation (an adapter rebuilding a history, say) then ran in the microtask checkpoint
 * of that one macrotask: the event loop was held for the sum of them all. Here each
 * promise is settled alone, then the settler waits one microtask turn so that the
 * caller's continuation runs before the next is settled, and once `budgetMs` have gone by
 * since the slice began it yields to the event loop (`setImmediate`): timers and I/O run,
 * and the rest is settled in the next slice. Order is kept: first pushed, first settled.
 */
export class Settler {
  readonly #budgetMs: number;
  readonly #now: () => number;
  /** Flat: settle function, value, settle function, value, … from `#head`. */
  #items: unknown[] = [];
  #head = 0;
  #running = false;
  /** Slices that ended because their budget was spent (each then yielded): for tests and stats. */
  yields = 0;

  constructor(budgetMs = SLICE_MS, now: () => number = () => performance.now()) {
    this.#budgetMs = budgetMs;
    this.#now = now;
  }

  /** Pending settlements. */
  get length(): number {
    return (this.#items.length - this.#head) / 2;
  }

  /** Calls `settle(value)` in its turn: at once if nothing waits (this slice), else after those queued. */
  push(settle: Settle, value: unknown): void {
    this.#items.push(settle, value);
    if (!this.#running) {
      this.#running = true;
      void this.#drain();
    }
  }

  async #drain(): Promise<void> {
    let sliceStart = this.#now();
    while (this.#head < this.#items.length) {
      const settle = this.#items[this.#head] as Settle;
      const value = this.#items[this.#head + 1];
      this.#items[this.#head] = this.#items[this.#head + 1] = undefined;
      this.#head += 2;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      }
      try {
        settle(value);
      } catch {
        // A settle function is a promise's resolve or reject: it does not throw.
      }
      // The caller's continuation (queued by the settle) runs before the next settle.
      await TURN;
      if (this.#head < this.#items.length && this.#now() - sliceStart >= this.#budgetMs) {
        this.yields++;
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = this.#now();
      }
    }
    this.#running = false;
  }
}

/** The one settler of this process's store engines: answers of every reader and writer share its slices. */
export const settler = new Settler();
