import { listenForAbort } from '../api/abort-listeners.js';

/**
 * A FIFO queue that takes from the front in O(1) (Array#shift is O(n)). An item pushed
 * with an AbortSignal is withdrawn when the signal aborts while the item still waits:
 * it leaves the queue and `onWithdraw` is told. Once taken, its signal no longer matters.
 * However many waiting items share a signal, it has one listener.
 */
export class Queue<T> {
  #items: T[] = [];
  #head = 0;
  /** How to stop listening to the signal of each waiting item that has one. */
  readonly #detach = new Map<T, () => void>();

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T, signal?: AbortSignal, onWithdraw?: (item: T, signal: AbortSignal) => void): void {
    this.#items.push(item);
    if (signal === undefined) return;
    const detach = listenForAbort(signal, () => {
      this.#detach.delete(item);
      if (this.#remove(item)) onWithdraw?.(item, signal);
    });
    this.#detach.set(item, detach);
  }

  /** Removes and returns up to `count` items from the front. */
  take(count: number): T[] {
    const end = Math.min(this.#head + count, this.#items.length);
    const taken = this.#items.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#detach.size > 0) {
      for (const item of taken) {
        const detach = this.#detach.get(item);
        if (detach !== undefined) {
          this.#detach.delete(item);
          detach();
        }
      }
    }
    return taken;
  }

  /** Removes and returns everything. */
  drain(): T[] {
    return this.take(this.length);
  }

  /** Removes one waiting item (O(n): only an abort comes here). */
  #remove(item: T): boolean {
    const index = this.#items.indexOf(item, this.#head);
    if (index < 0) return false;
    this.#items.splice(index, 1);
    return true;
  }
}
