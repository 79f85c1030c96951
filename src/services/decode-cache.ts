/**
 * Decoded values by key, bounded by the bytes of the text they were decoded from, the
 * least recently used going first in the manner of a clock ("second chance"): a hit only
 * marks its entry used; when the bound is passed, the oldest entry goes unless it was used
 * since it was placed, in which case it is placed again as the newest, unmarked, and the
 * next oldest is looked at. A hit then costs a lookup, not also a Map delete and set of
 * its key (with 2,000 sessions cached, a tenth of a point read's work on the caller's
 * thread: docs/PERFORMANCE.md, "The decode cache as a clock"). A value larger than the bound is not kept; a bound of 0 keeps
 * nothing. What it holds is shared by every reader of the cache: keep only frozen values
 * ({@link deepFreeze}), so that no caller can change what the next one gets.
 */
export class DecodeCache<K, V> {
  readonly #maxBytes: number;
  /** In the order placed, oldest first. */
  readonly #entries = new Map<K, { value: V; bytes: number; used: boolean }>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get enabled(): boolean {
    return this.#maxBytes > 0;
  }

  /** Whether a value of `bytes` would be kept: the cache is on and the value within its bound. */
  fits(bytes: number): boolean {
    return this.enabled && bytes <= this.#maxBytes;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (!this.fits(bytes)) return;
    // Room first, then the new entry: placed after any entry given a second chance here, it cannot be the one dropped.
    while (this.#bytes + bytes > this.#maxBytes) {
      // Never empty here: with nothing held, the new entry fits the bound alone.
      const [oldest, entry] = this.#entries.entries().next().value as [K, { value: V; bytes: number; used: boolean }];
      this.#entries.delete(oldest);
      if (entry.used) {
        // Used since it was placed: placed again as the newest, and looked at again only after all the others.
        entry.used = false;
        this.#entries.set(oldest, entry);
      } else {
        this.#bytes -= entry.bytes;
      }
    }
    this.#entries.set(key, { value, bytes, used: false });
    this.#bytes += bytes;
  }

  /** Drops every entry whose key `drop` picks (a walk of the whole cache: for rare events, such as a deleted thread). */
  deleteWhere(drop: (key: K) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (drop(key)) this.delete(key);
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}

/**
 * Freezes `value` and everything reachable through its own enumerable properties, so a
 * decoded value can be handed to many callers: a caller that tries to change it gets a
 * TypeError (in strict code) and the next caller still gets what was stored.
 */
export function deepFreeze<T>(value: T): T {
  // A typed array cannot be frozen (its bytes stay writable): left as it is.
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else {
    // Own properties only: an object's prototype (a class's methods) is not the value's to freeze.
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return Object.freeze(value);
}
