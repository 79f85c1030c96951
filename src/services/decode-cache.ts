/**
 * Decoded values by key, least recently used first out, bounded by the bytes of the text
 * they were decoded from. A value larger than the bound is not kept; a bound of 0 keeps
 * nothing. What it holds is shared by every reader of the cache: keep only frozen values
 * ({@link deepFreeze}), so that no caller can change what the next one gets.
 *
 * Recency is kept as the Map's insertion order, the oldest first out. A hit moves its
 * entry to the end only once it has fallen into the older half of that order: an entry
 * in the newer half would not be dropped before every entry of the older half anyway,
 * and a hot entry is then moved once per half a cache of insertions, not on every hit
 * (a delete and a set of a long key each time were 7% of a LangGraph `getTuple`).
 */
export class DecodeCache<K, V> {
  readonly #maxBytes: number;
  readonly #entries = new Map<K, { value: V; bytes: number; placed: number }>();
  #bytes = 0;
  /** Entries placed at the end of the order so far (inserted or moved): an entry's `placed` is this count when it went there. */
  #placed = 0;

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

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // At most this many entries are behind it: fewer than half the cache, and it is in the newer half, where it stays.
    if (this.#placed - entry.placed >= this.#entries.size / 2) {
      // Map keeps insertion order: moved to the end, it is the most recently used.
      this.#entries.delete(key);
      entry.placed = ++this.#placed;
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.#maxBytes) return;
    this.#entries.set(key, { value, bytes, placed: ++this.#placed });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
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
