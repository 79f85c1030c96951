import type { JsonObject, JsonValue } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { defineOperation, pluck, raw } from './operation.js';
import { NOW } from './sql.js';
import { defineTable, type RawRow, type RowOf } from './table.js';

// The LangGraph.js memory store's tables (lg_store, lg_store_vectors). A namespace
// ["users", "alice"] is stored as its labels joined by U+001F: labels hold no control
// characters, so U+001F sorts below every character they can hold, and a namespace with
// all its descendants is the one key range [ns, ns + U+0020). Prefixes match whole labels
// only: ["users", "al"] never reaches ["users", "alice"].

/** Joins the labels of a stored namespace. */
export const NAMESPACE_SEPARATOR = '\u001f';
/** The first character past the separator: `ns + SUBTREE_END` bounds ns's subtree. */
const SUBTREE_END = '\u0020';

export const encodeNamespace = (labels: readonly string[]): string => labels.join(NAMESPACE_SEPARATOR);
export const decodeNamespace = (stored: string): string[] => stored.split(NAMESPACE_SEPARATOR);
/** The namespace as the audit log shows it, `users:alice` (labels hold no colon). */
const auditNamespace = (stored: string): string => decodeNamespace(stored).join(':');

const LIVE = `(expires_at IS NULL OR expires_at > ${NOW})`;
/** `@ttl` minutes from now, to the millisecond. */
const EXPIRES_IN = (minutes: string): string => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('%+.3f seconds', ${minutes} * 60.0))`;

/** One item as a read returns it. */
export interface StoredItem {
  namespace: string[];
  key: string;
  value: JsonObject;
  createdAt: string;
  updatedAt: string;
  /** Cosine similarity to the query; null without a query or without vectors. */
  score: number | null;
  /** True when the item has a time to live (a read may refresh it). */
  expires: boolean;
}

/** `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`: the operators LangGraph's stores take. */
export const FILTER_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];
/** A top-level key of the value → a value it must equal, or operators it must satisfy. */
export type StoreFilter = Record<string, { kind: 'equals'; value: JsonValue } | { kind: 'operators'; ops: [FilterOperator, JsonValue][] }>;

export interface StoreSearch {
  /** The stored namespace prefix; null searches everything. */
  prefix: string | null;
  filter: StoreFilter | null;
  limit: number;
  offset: number;
}

export interface StoreRank {
  prefix: string | null;
  filter: StoreFilter | null;
  /** How many of the best to return (the page's offset + limit). */
  wanted: number;
  /** The query's embedding. */
  query: Float32Array;
  /** Score the items whose rowid % parts = part: readers rank shares of one search at once. */
  part: number;
  parts: number;
}

export interface RankedShare {
  /** The share's best `wanted` items, best first (ties in key order). */
  scored: StoredItem[];
  /** Its first `wanted` items without vectors, in key order. */
  unscored: StoredItem[];
}

export interface NamespaceQuery {
  /** Leading labels every namespace must have; '*' matches any label. */
  prefix: string[] | null;
  /** Trailing labels every namespace must have; '*' matches any label. */
  suffix: string[] | null;
  /** Namespaces deeper than this are cut to it (and listed once). */
  maxDepth: number | null;
  limit: number;
  offset: number;
}

export interface StorePut {
  /** The stored namespace (see {@link encodeNamespace}). */
  namespace: string;
  key: string;
  /** JSON text of the value; null deletes the item. */
  value: string | null;
  ttlMinutes: number | null;
  /** The item's vectors, [field, embedding, norm]: they replace whatever it had. */
  vectors: [field: string, embedding: Float32Array, norm: number][];
}

// The rows these statements read, decoded by name as every table's are. The value stays
// JSON text until it is needed: a search parses each one it filters, a ranking only those
// of the items it keeps. A vector's bytes are read where they lie (`blob`: not copied).
/** An item as the reads return it. */
const ITEM_ROW = defineTable('lg_store', {
  namespace: 'text',
  key: 'text',
  valueJson: { kind: 'text', column: 'value' },
  createdAt: 'time',
  updatedAt: 'time',
  ttlMinutes: 'real?',
});
type ItemRow = RowOf<typeof ITEM_ROW>;
/** An item with one of its vectors (none: both null), as a ranking reads them. */
const RANK_ROW = defineTable('lg_store', {
  namespace: { kind: 'text', column: 's.namespace' },
  key: { kind: 'text', column: 's.key' },
  valueJson: { kind: 'text', column: 's.value' },
  createdAt: { kind: 'time', column: 's.created_at' },
  updatedAt: { kind: 'time', column: 's.updated_at' },
  ttlMinutes: { kind: 'real?', column: 's.ttl_minutes' },
  embedding: { kind: 'blob?', column: 'v.embedding' },
  norm: { kind: 'real?', column: 'v.norm' },
});
type RankRow = RowOf<typeof RANK_ROW>;
const ITEM_COLUMNS = ITEM_ROW.columns;
/** An item whose time to live ran out. */
const EXPIRED_ROW = defineTable('lg_store', { namespace: 'text', key: 'text' });

const parseValue = (row: ItemRow): JsonObject => JSON.parse(row.valueJson) as JsonObject;

function storedItem(row: ItemRow, value: JsonObject, score: number | null): StoredItem {
  return {
    namespace: decodeNamespace(row.namespace),
    key: row.key,
    value,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    score,
    expires: row.ttlMinutes !== null,
  };
}

export const lgStoreGet = defineOperation({
  name: 'langgraph.store.get',
  kind: 'read',
  statements: { item: raw(`SELECT ${ITEM_COLUMNS} FROM lg_store WHERE namespace = ? AND key = ? AND ${LIVE}`) },
  run({ st }, [namespace, key]: readonly [string, string]): StoredItem | undefined {
    const found = st.item.get(namespace, key) as RawRow | undefined;
    if (found === undefined) return undefined;
    const row = ITEM_ROW.decode(found);
    return storedItem(row, parseValue(row), null);
  },
});

/** Deep equality of JSON values (object keys in any order). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function operatorHolds(op: FilterOperator, actual: unknown, expected: JsonValue): boolean {
  switch (op) {
    case '$eq':
      return jsonEqual(actual, expected);
    case '$ne':
      return !jsonEqual(actual, expected);
    // As LangGraph's in-memory store compares: as numbers.
    case '$gt':
      return Number(actual) > Number(expected);
    case '$gte':
      return Number(actual) >= Number(expected);
    case '$lt':
      return Number(actual) < Number(expected);
    case '$lte':
      return Number(actual) <= Number(expected);
    case '$in':
      return (expected as JsonValue[]).some((e) => jsonEqual(actual, e));
    case '$nin':
      return !(expected as JsonValue[]).some((e) => jsonEqual(actual, e));
  }
}

export function filterMatches(value: JsonObject, filter: StoreFilter): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    const actual = Object.hasOwn(value, key) ? value[key] : undefined;
    if (condition.kind === 'equals') {
      if (!jsonEqual(actual, condition.value)) return false;
    } else if (!condition.ops.every(([op, expected]) => operatorHolds(op, actual, expected))) {
      return false;
    }
  }
  return true;
}

/** A float32 view of a stored embedding (copied when the bytes are not 4-byte aligned). */
function embeddingOf(blob: Uint8Array): Float32Array {
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength >> 2);
  return new Float32Array(blob.slice().buffer);
}

/** Cosine similarity of a stored embedding to the query. */
function cosine(blob: Uint8Array, norm: number, query: Float32Array, queryNorm: number): number {
  if (norm === 0 || queryNorm === 0) return 0;
  const v = embeddingOf(blob);
  let dot = 0;
  const n = Math.min(v.length, query.length);
  for (let i = 0; i < n; i++) dot += v[i]! * query[i]!;
  return dot / (norm * queryNorm);
}

export const vectorNorm = (v: Float32Array): number => {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
};

/**
 * Keeps the `size` best-scoring entries seen, best first. Exhaustive search offers every
 * candidate; only the page's worth is kept, so memory does not grow with the collection.
 */
export class TopScores<T> {
  readonly #size: number;
  readonly entries: [number, T][] = [];

  constructor(size: number) {
    this.#size = size;
  }

  offer(score: number, item: () => T): void {
    const entries = this.entries;
    if (entries.length >= this.#size && score <= entries[entries.length - 1]![0]) return;
    // Binary search for the first entry scoring below this one: ties keep arrival order.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid]![0] >= score) lo = mid + 1;
      else hi = mid;
    }
    entries.splice(lo, 0, [score, item()]);
    if (entries.length > this.#size) entries.pop();
  }
}

export const lgStoreSearch = defineOperation({
  name: 'langgraph.store.search',
  kind: 'read',
  statements: {
    under: raw(`SELECT ${ITEM_COLUMNS} FROM lg_store WHERE namespace >= @lo AND namespace < @hi AND ${LIVE} ORDER BY namespace, key`),
    all: raw(`SELECT ${ITEM_COLUMNS} FROM lg_store WHERE ${LIVE} ORDER BY namespace, key`),
  },
  run({ st }, [search]: readonly [StoreSearch]): StoredItem[] {
    const { prefix, filter, limit, offset } = search;
    if (limit === 0) return [];
    const rows = (prefix === null ? st.all.iterate() : st.under.iterate({ lo: prefix, hi: prefix + SUBTREE_END })) as Iterable<RawRow>;
    // In key order: the page is found as soon as it is full.
    const found: StoredItem[] = [];
    let skipped = 0;
    for (const stored of rows) {
      const row = ITEM_ROW.decode(stored);
      const value = parseValue(row);
      if (filter !== null && !filterMatches(value, filter)) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      found.push(storedItem(row, value, null));
      if (found.length >= limit) break;
    }
    return found;
  },
});

// Each item with its vectors, one row per vector, an item's rows together; only the
// items of one share (rowid % parts), so that several readers can rank one search.
const rankStatement = (where: string): string =>
  `SELECT ${RANK_ROW.columns} FROM lg_store s LEFT JOIN lg_store_vectors v ON v.namespace = s.namespace AND v.key = s.key ` +
  `WHERE ${where}s.rowid % @parts = @part AND ${LIVE} ORDER BY s.namespace, s.key`;

export const lgStoreRank = defineOperation({
  name: 'langgraph.store.rank',
  kind: 'read',
  statements: {
    under: raw(rankStatement('s.namespace >= @lo AND s.namespace < @hi AND ')),
    all: raw(rankStatement('')),
  },
  run({ st }, [rank]: readonly [StoreRank]): RankedShare {
    const { prefix, filter, wanted, query, part, parts } = rank;
    const rows = (prefix === null
      ? st.all.iterate({ part, parts })
      : st.under.iterate({ lo: prefix, hi: prefix + SUBTREE_END, part, parts })) as Iterable<RawRow>;
    // Exhaustive: every candidate is scored, and only the best `wanted` are kept.
    const queryNorm = vectorNorm(query);
    const top = new TopScores<StoredItem>(wanted);
    const unscored: StoredItem[] = [];
    // The item being read, and its best score over its vectors (null: it has none).
    let item: RankRow | undefined;
    let best: number | null = null;
    const settle = (): void => {
      if (item === undefined) return;
      const row = item;
      let value: JsonObject | undefined;
      if (filter !== null) {
        value = parseValue(row);
        if (!filterMatches(value, filter)) return;
      }
      if (best === null) {
        if (unscored.length < wanted) unscored.push(storedItem(row, value ?? parseValue(row), null));
      } else {
        const score = best;
        top.offer(score, () => storedItem(row, value ?? parseValue(row), score));
      }
    };
    for (const found of rows) {
      const row = RANK_ROW.decode(found);
      if (item === undefined || row.namespace !== item.namespace || row.key !== item.key) {
        settle();
        item = row;
        best = null;
      }
      if (row.embedding !== null) {
        const score = cosine(row.embedding, row.norm!, query, queryNorm);
        if (best === null || score > best) best = score;
      }
    }
    settle();
    return { scored: top.entries.map(([, entry]) => entry), unscored };
  },
});

/** True when the labels match the path from the front (prefix) or the back (suffix); '*' matches any label. */
function pathMatches(labels: readonly string[], path: readonly string[] | null, fromEnd: boolean): boolean {
  if (path === null) return true;
  if (path.length > labels.length) return false;
  const start = fromEnd ? labels.length - path.length : 0;
  return path.every((p, i) => p === '*' || p === labels[start + i]);
}

export const lgStoreListNamespaces = defineOperation({
  name: 'langgraph.store.listNamespaces',
  kind: 'read',
  statements: {
    // One index seek per namespace listed (or skipped): the walk steps from one distinct
    // namespace to the next, or past a whole subtree once maxDepth has listed it.
    first: pluck(`SELECT namespace FROM lg_store WHERE ${LIVE} ORDER BY namespace LIMIT 1`),
    from: pluck(`SELECT namespace FROM lg_store WHERE namespace >= ? AND ${LIVE} ORDER BY namespace LIMIT 1`),
    after: pluck(`SELECT namespace FROM lg_store WHERE namespace > ? AND ${LIVE} ORDER BY namespace LIMIT 1`),
  },
  run({ st }, [query]: readonly [NamespaceQuery]): string[][] {
    const { prefix, suffix, maxDepth, limit, offset } = query;
    // The labels before the first wildcard bound the walk to one subtree.
    const lead = prefix === null ? [] : prefix.slice(0, prefix.indexOf('*') < 0 ? prefix.length : prefix.indexOf('*'));
    const lo = lead.length === 0 ? null : encodeNamespace(lead);
    const hi = lo === null ? null : lo + SUBTREE_END;
    const listed: string[][] = [];
    let skipped = 0;
    let previous: string | null = null;
    let current = (lo === null ? st.first.get() : st.from.get(lo)) as string | undefined;
    while (current !== undefined && (hi === null || current < hi) && listed.length < limit) {
      const labels = decodeNamespace(current);
      let next: string | undefined;
      if (pathMatches(labels, prefix, false) && pathMatches(labels, suffix, true)) {
        const cut = maxDepth === null || labels.length <= maxDepth ? labels : labels.slice(0, maxDepth);
        const name = encodeNamespace(cut);
        // Subtrees are contiguous, so a cut namespace repeats only right after itself.
        if (name !== previous) {
          previous = name;
          if (skipped < offset) skipped++;
          else listed.push(cut);
        }
        if (cut.length < labels.length) next = st.from.get(name + SUBTREE_END) as string | undefined;
      }
      current = next ?? (st.after.get(current) as string | undefined);
    }
    return listed;
  },
});

export const lgStorePut = defineOperation({
  name: 'langgraph.store.put',
  kind: 'write',
  statements: {
    existing: pluck(`SELECT ${LIVE} FROM lg_store WHERE namespace = ? AND key = ?`),
    insert:
      'INSERT INTO lg_store (namespace, key, value, ttl_minutes, expires_at) ' +
      `VALUES (@namespace, @key, @value, @ttl, CASE WHEN @ttl IS NULL THEN NULL ELSE ${EXPIRES_IN('@ttl')} END)`,
    update:
      `UPDATE lg_store SET value = @value, updated_at = ${NOW}, ttl_minutes = @ttl, ` +
      `expires_at = CASE WHEN @ttl IS NULL THEN NULL ELSE ${EXPIRES_IN('@ttl')} END WHERE namespace = @namespace AND key = @key`,
    remove: 'DELETE FROM lg_store WHERE namespace = ? AND key = ?',
    removeVectors: 'DELETE FROM lg_store_vectors WHERE namespace = ? AND key = ?',
    vector: 'INSERT INTO lg_store_vectors (namespace, key, field, embedding, norm) VALUES (?, ?, ?, ?, ?)',
    audit: AUDIT_INSERT,
  },
  run({ st }, [puts]: readonly [readonly StorePut[]]): void {
    for (const put of puts) {
      const { namespace, key, value } = put;
      const live = st.existing.get(namespace, key) as number | undefined;
      // An expired item that the sweeper has not reached yet is gone already.
      if (live === 0) {
        st.remove.run(namespace, key);
        st.removeVectors.run(namespace, key);
      }
      const exists = live === 1;
      if (value === null) {
        if (!exists) continue;
        st.remove.run(namespace, key);
        st.removeVectors.run(namespace, key);
      } else {
        const params = { namespace, key, value, ttl: put.ttlMinutes };
        if (exists) {
          st.update.run(params);
          st.removeVectors.run(namespace, key);
        } else {
          st.insert.run(params);
        }
        for (const [field, embedding, norm] of put.vectors) st.vector.run(namespace, key, field, embedding, norm);
      }
      const operation = value === null ? 'delete' : exists ? 'update' : 'create';
      writeAudit(st.audit, undefined, {
        action: value === null ? 'langgraph_store_delete' : 'langgraph_store_put',
        data: { namespace: decodeNamespace(namespace), key },
        memory: { operation, namespace: auditNamespace(namespace), entryId: null },
      });
    }
  },
});

export const lgStoreRefresh = defineOperation({
  name: 'langgraph.store.refreshTtl',
  kind: 'write',
  statements: {
    refresh:
      `UPDATE lg_store SET expires_at = ${EXPIRES_IN('ttl_minutes')} ` +
      `WHERE namespace = ? AND key = ? AND ttl_minutes IS NOT NULL AND expires_at > ${NOW}`,
    audit: AUDIT_INSERT,
  },
  run({ st }, [items]: readonly [readonly (readonly [namespace: string, key: string])[]]): number {
    let refreshed = 0;
    for (const [namespace, key] of items) refreshed += st.refresh.run(namespace, key).changes;
    if (refreshed > 0) writeAudit(st.audit, undefined, { action: 'langgraph_store_refresh_ttl', data: { refreshed } });
    return refreshed;
  },
});

export const lgStoreSweep = defineOperation({
  name: 'langgraph.store.sweep',
  kind: 'write',
  statements: {
    expired: raw(`SELECT ${EXPIRED_ROW.columns} FROM lg_store WHERE expires_at <= ${NOW} ORDER BY expires_at LIMIT ?`),
    remove: 'DELETE FROM lg_store WHERE namespace = ? AND key = ?',
    removeVectors: 'DELETE FROM lg_store_vectors WHERE namespace = ? AND key = ?',
    audit: AUDIT_INSERT,
  },
  run({ st }, [max]: readonly [number]): number {
    const expired = (st.expired.all(max) as RawRow[]).map(EXPIRED_ROW.decode);
    for (const { namespace, key } of expired) {
      st.remove.run(namespace, key);
      st.removeVectors.run(namespace, key);
    }
    if (expired.length > 0) writeAudit(st.audit, undefined, { action: 'langgraph_store_sweep', data: { deleted: expired.length } });
    return expired.length;
  },
});

export const storeOperations = [lgStoreGet, lgStoreSearch, lgStoreRank, lgStoreListNamespaces, lgStorePut, lgStoreRefresh, lgStoreSweep];
