import type { StoredMemoryEntry } from '../catalogue/memory.js';
import type { JsonValue, MemoryContext, MemoryEntry, Page } from '../api/types.js';
import { DecodeCache, deepFreeze } from './decode-cache.js';

/** A version's value as this process decoded it, beside the text it was decoded from. */
interface Held {
  readonly text: string;
  readonly value: JsonValue;
}

/**
 * Memory versions' values as the caller's thread decoded them, by row id. A version's
 * value never changes once written: update adds a version, delete, rollback and
 * expireEpisodic only mark versions deleted, and ids are never reused (src/catalogue/
 * memory.ts). The reads still send each row's value text, and a held value is handed out
 * only when its text is the text the read brought, so nothing written since, by this store
 * or another process, can be answered from here: which rows a read returns (deleted ones
 * or not) is the read's own, from committed data. Entries not used lately go first
 * (DecodeCache's clock), within `maxBytes` of JSON text. What it hands out is deep-frozen and shared by every
 * caller; with `maxBytes` 0 it keeps nothing and every read decodes all it returns, as
 * objects of the caller's own.
 */
export class MemoryValues {
  readonly #values: DecodeCache<number, Held>;

  constructor(maxBytes: number) {
    this.#values = new DecodeCache(maxBytes);
  }

  /** The value of version row `id`, whose stored JSON text is `text`. */
  value(id: number, text: string): JsonValue {
    if (!this.#values.enabled) return JSON.parse(text) as JsonValue;
    const held = this.#values.get(id);
    // Compared whole (a length check first, then the characters): far cheaper than a parse.
    if (held !== undefined && held.text === text) return held.value;
    const value = deepFreeze(JSON.parse(text) as JsonValue);
    this.#values.set(id, { text, value }, text.length);
    return value;
  }

  /** A read's row as the public entry: the row object is the caller's own, its value decoded here. */
  entry<Value>(row: StoredMemoryEntry): MemoryEntry<Value> {
    const entry = row as unknown as MemoryEntry<Value>;
    entry.value = this.value(row.id, row.value) as Value;
    return entry;
  }

  entries<Value>(rows: StoredMemoryEntry[]): MemoryEntry<Value>[] {
    for (const row of rows) this.entry(row);
    return rows as unknown as MemoryEntry<Value>[];
  }

  page<Value>(page: Page<StoredMemoryEntry>): Page<MemoryEntry<Value>> {
    this.entries(page.items);
    return page as unknown as Page<MemoryEntry<Value>>;
  }

  context<Value>(context: MemoryContext<string>): MemoryContext<Value> {
    for (const scope of [context.session, context.user, context.app, context.project]) this.entries(scope);
    return context as unknown as MemoryContext<Value>;
  }
}
