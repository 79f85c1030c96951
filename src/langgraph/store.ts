import {
  BaseStore,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from '@langchain/langgraph-checkpoint';
import { invalidArgument, StoreError } from '../api/errors.js';
import type { StoreOptions } from '../api/options.js';
import { engineOf, openStore, type Store } from '../store.js';
import type { JsonObject, JsonValue } from '../api/types.js';
import * as v from '../api/validate.js';
import {
  encodeNamespace,
  FILTER_OPERATORS,
  lgStoreGet,
  lgStoreListNamespaces,
  lgStorePut,
  lgStoreRank,
  lgStoreRefresh,
  lgStoreSearch,
  lgStoreSweep,
  vectorNorm,
  type FilterOperator,
  type NamespaceQuery,
  type StoredItem,
  type StoreFilter,
  type StorePut,
} from '../catalogue/langgraph-store.js';
import { compareCodePoints } from '../catalogue/langgraph.js';
import type { StoreEngine } from '../api/engine.js';
import { parseFieldPath, textsAt } from './field-paths.js';
import { describeValue, MAX_NAME, namespaceLabels, storeOf } from './validate.js';

/** What LangGraph's `Embeddings` classes offer (`@langchain/core/embeddings`). */
export interface EmbeddingsLike {
  /** One vector per text: what a put's fields are embedded with. */
  embedDocuments(texts: string[]): Promise<number[][]>;
  /** The vector a `search({ query })` ranks by. */
  embedQuery(text: string): Promise<number[]>;
}

/** Texts in, one vector per text out. */
export type EmbedFunction = (texts: string[]) => Promise<number[][]>;

/** Semantic search: how items are embedded, and which of their fields. */
export interface AbathurStoreIndexConfig {
  /** Length of every vector. */
  dims: number;
  /** An Embeddings object, or a function from texts to vectors. */
  embed?: EmbeddingsLike | EmbedFunction;
  /** The same, under the name LangGraph's `IndexConfig` gives it. */
  embeddings?: EmbeddingsLike;
  /** Field paths embedded by default (`["$"]`, the whole value, when omitted). */
  fields?: string[];
}

/** Time to live, in minutes: expired items are invisible at once and deleted by a sweeper. */
export interface AbathurStoreTtlConfig {
  /** Minutes an item lives after it is written (or read, with refreshOnRead), when a put names none. Default: forever. */
  defaultTtl?: number;
  /** A read pushes an expiring item's expiry out by its time to live again. Default true. */
  refreshOnRead?: boolean;
  /** Minutes between sweeps that delete expired items; 0 for none. Default 60. */
  sweepIntervalMinutes?: number;
}

/** Options of {@link AbathurStore}'s constructor: semantic search and time to live, both off by default. */
export interface AbathurStoreOptions {
  /** Semantic search: items are embedded on put and `search({ query })` ranks by cosine similarity. */
  index?: AbathurStoreIndexConfig;
  /** Items that expire. */
  ttl?: AbathurStoreTtlConfig;
}

/** Options of {@link AbathurStore.fromPath}: the memory store's, and those of the store it opens. */
export interface AbathurStoreFromPathOptions extends AbathurStoreOptions {
  /** Options for the store it opens (all but `path`). */
  store?: Omit<StoreOptions, 'path'>;
}

/** A get that may say whether it refreshes an expiring item's time to live. */
export interface AbathurGetOperation extends GetOperation {
  refreshTtl?: boolean;
}
/** A search that may say whether it refreshes the expiring items it returns. */
export interface AbathurSearchOperation extends SearchOperation {
  refreshTtl?: boolean;
}
/** A put that may give the item a time to live, in minutes (null: forever). */
export interface AbathurPutOperation extends PutOperation {
  ttl?: number | null;
}

type Embedder = { documents: EmbedFunction; query: (text: string) => Promise<number[]> };

type Plan =
  | { kind: 'get'; namespace: string; key: string; refresh: boolean }
  | { kind: 'search'; prefix: string | null; filter: StoreFilter | null; limit: number; offset: number; query: string | null; refresh: boolean }
  | { kind: 'put'; namespace: string; key: string; value: JsonObject | null; json: string | null; ttl: number | null; fields: string[] | null }
  | { kind: 'list'; query: NamespaceQuery };

const SWEEP_CHUNK = 1000;
const MAX_LIMIT = 1000;
const MAX_OFFSET = 1_000_000_000;

function positiveMinutes(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(`${name} must be a positive number of minutes, got ${describeValue(value)}`);
  }
  return value;
}

function fieldPaths(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw invalidArgument(`${name} must be an array of field paths like ["title", "chapters[*].content"], got ${describeValue(value)}`);
  }
  for (const path of value as string[]) if (path !== '$') parseFieldPath(path);
  return value as string[];
}

function filterOf(value: unknown, maxBytes: number): StoreFilter | null {
  if (value === undefined || value === null) return null;
  if (!v.isPlainObject(value)) throw invalidArgument(`filter must be an object like { status: "active" }, got ${describeValue(value)}`);
  const filter: StoreFilter = {};
  for (const [key, condition] of Object.entries(value)) {
    if (condition === undefined) continue;
    v.json(`filter.${key}`, condition, maxBytes);
    const operators = v.isPlainObject(condition) ? Object.keys(condition).filter((k) => k.startsWith('$')) : [];
    if (operators.length === 0) {
      filter[key] = { kind: 'equals', value: condition as JsonValue };
      continue;
    }
    const ops: [FilterOperator, JsonValue][] = [];
    for (const [op, operand] of Object.entries(condition as Record<string, JsonValue>)) {
      if (!(FILTER_OPERATORS as readonly string[]).includes(op)) {
        throw invalidArgument(`filter.${key} has ${JSON.stringify(op)}, which is not an operator (known: ${FILTER_OPERATORS.join(', ')})`);
      }
      if ((op === '$in' || op === '$nin') && !Array.isArray(operand)) throw invalidArgument(`filter.${key}.${op} must be an array`);
      ops.push([op as FilterOperator, operand]);
    }
    filter[key] = { kind: 'operators', ops };
  }
  return filter;
}

/** Several match conditions of one kind, as one path (they must all hold); null when none can. */
function mergePaths(paths: string[][], fromEnd: boolean): string[] | null {
  const length = paths.reduce((most, p) => Math.max(most, p.length), 0);
  const merged: string[] = new Array<string>(length).fill('*');
  for (const path of paths) {
    for (let i = 0; i < path.length; i++) {
      const label = path[i]!;
      const at = fromEnd ? length - path.length + i : i;
      if (label === '*') continue;
      if (merged[at] !== '*' && merged[at] !== label) return null;
      merged[at] = label;
    }
  }
  return merged;
}

function itemOf(stored: StoredItem): Item {
  return {
    namespace: stored.namespace,
    key: stored.key,
    value: stored.value,
    createdAt: new Date(stored.createdAt),
    updatedAt: new Date(stored.updatedAt),
  };
}

/**
 * LangGraph.js's long-term memory store on an abathur-store store, on either engine (tables `lg_store`
 * and `lg_store_vectors`): `batch`, `get`, `put`, `delete`, `search` (filters, semantic
 * ranking when an index is configured) and `listNamespaces`, with optional time to live.
 *
 * Namespaces are matched label by label: `["users", "al"]` is no prefix of
 * `["users", "alice"]`. Labels are LangGraph's: non-empty strings without '.', ':', NUL
 * (nor any other control character).
 *
 * @example
 * const store = await openStore({ path: './data/agents.db' });
 * const memory = new AbathurStore(store);
 * await memory.put(['users', 'alice'], 'prefs', { theme: 'dark' });
 * const graph = builder.compile({ checkpointer: new AbathurSaver(store), store: memory });
 */
export class AbathurStore extends BaseStore {
  readonly #store: Store;
  readonly #engine: StoreEngine;
  readonly #dims: number | null;
  readonly #embedder: Embedder | null;
  readonly #fields: string[];
  readonly #defaultTtl: number | null;
  readonly #refreshOnRead: boolean;
  readonly #sweepMs: number;
  #sweeper: NodeJS.Timeout | undefined;
  #owned = false;

  /** A memory store on an open store; closing the store is the caller's business. */
  constructor(store: Store, options?: AbathurStoreOptions) {
    super();
    this.#store = storeOf('AbathurStore', store);
    this.#engine = engineOf(this.#store);
    const o = v.options('AbathurStore options', options, ['index', 'ttl'] as const);
    if (o.index === undefined) {
      this.#dims = null;
      this.#embedder = null;
      this.#fields = ['$'];
    } else {
      const index = v.options('options.index', o.index, ['dims', 'embed', 'embeddings', 'fields'] as const);
      this.#dims = v.integer('options.index.dims', index.dims, 1, 65_536);
      this.#embedder = embedderOf(index.embed ?? index.embeddings);
      this.#fields = index.fields === undefined ? ['$'] : fieldPaths('options.index.fields', index.fields);
    }
    const ttl = v.options('options.ttl', o.ttl, ['defaultTtl', 'refreshOnRead', 'sweepIntervalMinutes'] as const);
    this.#defaultTtl = ttl.defaultTtl === undefined ? null : positiveMinutes('options.ttl.defaultTtl', ttl.defaultTtl);
    this.#refreshOnRead = ttl.refreshOnRead === undefined ? true : v.boolean('options.ttl.refreshOnRead', ttl.refreshOnRead);
    const sweepMinutes = ttl.sweepIntervalMinutes === undefined ? 60 : v.finiteNumber('options.ttl.sweepIntervalMinutes', ttl.sweepIntervalMinutes, 0);
    this.#sweepMs = o.ttl === undefined ? 0 : sweepMinutes * 60_000;
    // LangGraph never calls start() on a store it is given, so the sweeper starts here.
    this.start();
  }

  /** Opens (creating if needed) a store on a database file for this memory store alone; {@link close} closes it. */
  static async fromPath(path: string, options?: AbathurStoreFromPathOptions): Promise<AbathurStore> {
    const { store: storeOptions, ...rest } = options ?? {};
    const store = await openStore({ ...storeOptions, path });
    try {
      const memory = new AbathurStore(store, rest);
      memory.#owned = true;
      return memory;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** The store the items live in. */
  get store(): Store {
    return this.#store;
  }

  /**
   * Runs get, search, put (a null value deletes) and listNamespaces operations together.
   * Reads see the store as it was before the batch; the puts then commit together, the
   * last put of a key winning. Results line up with the operations.
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    if (!Array.isArray(operations)) throw invalidArgument(`batch needs an array of operations, got ${describeValue(operations)}`);
    const plans = operations.map((op, i) => this.#plan(op, `operations[${i}]`));
    const puts = new Map<string, Extract<Plan, { kind: 'put' }>>();
    for (const plan of plans) if (plan.kind === 'put') puts.set(`${plan.namespace}\u0000${plan.key}`, plan);

    const [results, stored] = await Promise.all([this.#read(plans), this.#toStore([...puts.values()])]);
    if (stored.length > 0) await this.#engine.call(lgStorePut, () => [stored] as const);

    const refresh: [string, string][] = [];
    plans.forEach((plan, i) => {
      if ((plan.kind !== 'get' && plan.kind !== 'search') || !plan.refresh) return;
      const found = results[i] as StoredItem | StoredItem[] | undefined;
      for (const item of found === undefined ? [] : Array.isArray(found) ? found : [found]) {
        if (item.expires) refresh.push([encodeNamespace(item.namespace), item.key]);
      }
    });
    if (refresh.length > 0) await this.#engine.call(lgStoreRefresh, () => [refresh] as const);

    return plans.map((plan, i) => {
      const result = results[i];
      if (plan.kind === 'get') return result === undefined ? null : itemOf(result as StoredItem);
      if (plan.kind === 'search') {
        return (result as StoredItem[]).map((s): SearchItem => ({ ...itemOf(s), score: s.score === null ? undefined : s.score }));
      }
      if (plan.kind === 'list') return result;
      return null;
    }) as OperationResults<Op>;
  }

  /** The item, or null; `refreshTtl` overrides the store's refreshOnRead for this read. */
  override async get(namespace: string[], key: string, options?: { refreshTtl?: boolean }): Promise<Item | null> {
    const o = v.options('get options', options, ['refreshTtl'] as const);
    const op: AbathurGetOperation = { namespace, key, ...(o.refreshTtl === undefined ? {} : { refreshTtl: o.refreshTtl as boolean }) };
    return ((await this.batch([op])) as [Item | null])[0];
  }

  /**
   * Items under a namespace prefix (label by label; `[]` for all), filtered by value
   * (`{ status: "active" }`, `{ score: { $gte: 3 } }`; top-level keys; operators $eq, $ne,
   * $gt, $gte, $lt, $lte, $in, $nin). With `query` and an index, ranked by cosine
   * similarity (`score`), items without vectors after; otherwise in (namespace, key) order.
   */
  override async search(
    namespacePrefix: string[],
    options?: { filter?: Record<string, unknown>; limit?: number; offset?: number; query?: string; refreshTtl?: boolean },
  ): Promise<SearchItem[]> {
    const o = v.options('search options', options, ['filter', 'limit', 'offset', 'query', 'refreshTtl'] as const);
    const op: AbathurSearchOperation = {
      namespacePrefix,
      filter: o.filter as Record<string, unknown> | undefined,
      limit: (o.limit as number | undefined) ?? 10,
      offset: (o.offset as number | undefined) ?? 0,
      query: o.query as string | undefined,
      ...(o.refreshTtl === undefined ? {} : { refreshTtl: o.refreshTtl as boolean }),
    };
    return ((await this.batch([op])) as [SearchItem[]])[0];
  }

  /**
   * Stores (or replaces) an item. `index` names the fields to embed (false: none);
   * `options.ttl` its time to live in minutes (null: forever; default the store's).
   * The root label "langgraph" is LangGraph's own and refused here, as LangGraph refuses it.
   */
  override async put(
    namespace: string[],
    key: string,
    value: Record<string, unknown>,
    index?: false | string[],
    options?: { ttl?: number | null },
  ): Promise<void> {
    namespaceLabels('namespace', namespace);
    const o = v.options('put options', options, ['ttl'] as const);
    const op: AbathurPutOperation = { namespace, key, value, ...(index === undefined ? {} : { index }), ...(o.ttl === undefined ? {} : { ttl: o.ttl as number | null }) };
    await this.batch([op]);
  }

  override async delete(namespace: string[], key: string): Promise<void> {
    await this.batch([{ namespace, key, value: null }]);
  }

  /**
   * Namespaces that have items, in label order: with `prefix`/`suffix` ('*' matches any
   * label), cut to `maxDepth` labels (each listed once). Default limit 100.
   */
  override async listNamespaces(options?: {
    prefix?: string[];
    suffix?: string[];
    maxDepth?: number;
    limit?: number;
    offset?: number;
  }): Promise<string[][]> {
    const o = v.options('listNamespaces options', options, ['prefix', 'suffix', 'maxDepth', 'limit', 'offset'] as const);
    const matchConditions: MatchCondition[] = [];
    if (o.prefix !== undefined) matchConditions.push({ matchType: 'prefix', path: o.prefix as string[] });
    if (o.suffix !== undefined) matchConditions.push({ matchType: 'suffix', path: o.suffix as string[] });
    const op: ListNamespacesOperation = {
      matchConditions,
      ...(o.maxDepth === undefined ? {} : { maxDepth: o.maxDepth as number }),
      limit: (o.limit as number | undefined) ?? 100,
      offset: (o.offset as number | undefined) ?? 0,
    };
    return ((await this.batch([op])) as [string[][]])[0];
  }

  /** Deletes every expired item now; resolves to how many. The sweeper calls this. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.#engine.call(lgStoreSweep, () => [SWEEP_CHUNK] as const);
      total += deleted;
      if (deleted < SWEEP_CHUNK) return total;
    }
  }

  /** Starts the sweeper, when the store has a ttl config (the constructor already did). */
  override start(): void {
    if (this.#sweepMs <= 0 || this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => {
        // A closed store sweeps no more; any other failure is retried at the next interval.
        if (error instanceof StoreError && error.code === 'CLOSED') this.stop();
      });
    }, this.#sweepMs);
    this.#sweeper.unref();
  }

  /** Stops the sweeper. */
  override stop(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Stops the sweeper, and closes the store if {@link fromPath} opened it. */
  async close(): Promise<void> {
    this.stop();
    if (this.#owned) await this.#store.close();
  }

  #plan(op: unknown, name: string): Plan {
    if (typeof op !== 'object' || op === null) throw invalidArgument(`${name} must be an operation object, got ${describeValue(op)}`);
    const refreshOf = (value: unknown): boolean =>
      value === undefined ? this.#refreshOnRead : v.boolean(`${name}.refreshTtl`, value);
    if ('namespacePrefix' in op) {
      const s = op as AbathurSearchOperation;
      const prefix = namespaceLabels(`${name}.namespacePrefix`, s.namespacePrefix, { allowEmpty: true, allowReservedRoot: true });
      return {
        kind: 'search',
        prefix: prefix.length === 0 ? null : encodeNamespace(prefix),
        filter: filterOf(s.filter, this.#engine.options.maxPayloadBytes),
        limit: s.limit === undefined ? 10 : v.integer(`${name}.limit`, s.limit, 0, MAX_LIMIT),
        offset: s.offset === undefined ? 0 : v.integer(`${name}.offset`, s.offset, 0, MAX_OFFSET),
        query: s.query === undefined || s.query === null ? null : v.text(`${name}.query`, s.query),
        refresh: refreshOf(s.refreshTtl),
      };
    }
    if ('value' in op) {
      const p = op as AbathurPutOperation;
      const namespace = encodeNamespace(namespaceLabels(`${name}.namespace`, p.namespace, { allowReservedRoot: true }));
      const key = v.text(`${name}.key`, p.key, MAX_NAME);
      if (p.value === null) return { kind: 'put', namespace, key, value: null, json: null, ttl: null, fields: null };
      const json = v.jsonObject(`${name}.value`, p.value, this.#engine.options.maxPayloadBytes);
      const ttl = p.ttl === undefined ? this.#defaultTtl : p.ttl === null ? null : positiveMinutes(`${name}.ttl`, p.ttl);
      let fields: string[] | null;
      if (p.index === false) fields = null;
      else if (p.index === undefined || p.index === null) fields = this.#fields;
      else fields = fieldPaths(`${name}.index`, p.index);
      return { kind: 'put', namespace, key, value: p.value as JsonObject, json, ttl, fields };
    }
    if ('namespace' in op || 'key' in op) {
      if (!('namespace' in op && 'key' in op)) throw invalidArgument(`${name} must have both a namespace and a key (a get), or a value too (a put)`);
      const g = op as AbathurGetOperation;
      return {
        kind: 'get',
        namespace: encodeNamespace(namespaceLabels(`${name}.namespace`, g.namespace, { allowReservedRoot: true })),
        key: v.text(`${name}.key`, g.key, MAX_NAME),
        refresh: refreshOf(g.refreshTtl),
      };
    }
    const l = op as Partial<ListNamespacesOperation>;
    const prefixes: string[][] = [];
    const suffixes: string[][] = [];
    const conditions = l.matchConditions ?? [];
    if (!Array.isArray(conditions)) throw invalidArgument(`${name}.matchConditions must be an array`);
    conditions.forEach((condition: MatchCondition, i) => {
      const where = `${name}.matchConditions[${i}]`;
      if (condition?.matchType !== 'prefix' && condition?.matchType !== 'suffix') {
        throw invalidArgument(`${where}.matchType must be "prefix" or "suffix", got ${describeValue(condition?.matchType)}`);
      }
      const path = namespaceLabels(`${where}.path`, condition.path, { allowEmpty: true, allowReservedRoot: true });
      if (path.length > 0) (condition.matchType === 'prefix' ? prefixes : suffixes).push(path);
    });
    const prefix = prefixes.length === 0 ? null : mergePaths(prefixes, false);
    const suffix = suffixes.length === 0 ? null : mergePaths(suffixes, true);
    if ((prefixes.length > 0 && prefix === null) || (suffixes.length > 0 && suffix === null)) {
      // Conditions no namespace can meet at once: nothing to list.
      return { kind: 'list', query: { prefix: null, suffix: null, maxDepth: null, limit: 0, offset: 0 } };
    }
    return {
      kind: 'list',
      query: {
        prefix,
        suffix,
        maxDepth: l.maxDepth === undefined || l.maxDepth === null ? null : v.integer(`${name}.maxDepth`, l.maxDepth, 1, MAX_NAME),
        limit: l.limit === undefined ? 100 : v.integer(`${name}.limit`, l.limit, 0, MAX_LIMIT),
        offset: l.offset === undefined ? 0 : v.integer(`${name}.offset`, l.offset, 0, MAX_OFFSET),
      },
    };
  }

  /** Runs the batch's reads; embeds the searches' queries first. Undefined for puts. */
  async #read(plans: readonly Plan[]): Promise<unknown[]> {
    const embedder = this.#embedder;
    const queries = new Map<string, Promise<Float32Array>>();
    if (embedder !== null) {
      for (const plan of plans) {
        if (plan.kind === 'search' && plan.query !== null && !queries.has(plan.query)) {
          const text = plan.query;
          queries.set(text, embedder.query(text).then((vector) => this.#vector(vector, 'the query embedding')));
        }
      }
    }
    return Promise.all(
      plans.map(async (plan) => {
        switch (plan.kind) {
          case 'get':
            return this.#engine.call(lgStoreGet, () => [plan.namespace, plan.key] as const);
          case 'search': {
            const query = plan.query === null ? undefined : queries.get(plan.query);
            if (query === undefined) {
              return this.#engine.call(lgStoreSearch, () => [{ prefix: plan.prefix, filter: plan.filter, limit: plan.limit, offset: plan.offset }] as const);
            }
            return plan.limit === 0 ? [] : this.#rank(plan, await query);
          }
          case 'list':
            return plan.query.limit === 0 ? [] : this.#engine.call(lgStoreListNamespaces, () => [plan.query] as const);
          case 'put':
            return undefined;
        }
      }),
    );
  }

  /**
   * A ranked search: readers score shares of the items (exhaustive cosine) at once, and
   * the shares' best are merged here: scored best first (ties in key order), then the
   * items without vectors in key order. On SQLite one reader fewer than the store has
   * takes part, so that a long ranking leaves a reader to the other reads; on PostgreSQL
   * the server ranks them all in one statement.
   */
  async #rank(plan: Extract<Plan, { kind: 'search' }>, query: Float32Array): Promise<StoredItem[]> {
    const engine = this.#engine;
    const parts = engine.kind === 'sqlite' ? Math.max(1, (engine.options.readers ?? 1) - 1) : 1;
    const wanted = plan.offset + plan.limit;
    const shares = await Promise.all(
      Array.from({ length: parts }, (_, part) =>
        this.#engine.call(lgStoreRank, () => [{ prefix: plan.prefix, filter: plan.filter, wanted, query, part, parts }] as const),
      ),
    );
    const byKey = (a: StoredItem, b: StoredItem): number =>
      compareCodePoints(encodeNamespace(a.namespace), encodeNamespace(b.namespace)) || compareCodePoints(a.key, b.key);
    const scored = shares.flatMap((s) => s.scored).sort((a, b) => b.score! - a.score! || byKey(a, b));
    const unscored = shares.flatMap((s) => s.unscored).sort(byKey);
    return [...scored, ...unscored].slice(plan.offset, wanted);
  }

  /** The puts as the writer takes them, with their embeddings (each distinct text embedded once). */
  async #toStore(puts: readonly Extract<Plan, { kind: 'put' }>[]): Promise<StorePut[]> {
    const embedder = this.#embedder;
    const texts = new Map<string, number>();
    const fieldsOf = puts.map((put) => {
      const fields: [field: string, text: string][] = [];
      if (embedder === null || put.value === null || put.fields === null) return fields;
      const seen = new Set<string>();
      for (const path of put.fields) {
        const found = textsAt(put.value, path);
        found.forEach((text, i) => {
          const field = found.length === 1 ? path : `${path}.${i}`;
          if (seen.has(field)) return;
          seen.add(field);
          fields.push([field, text]);
          if (!texts.has(text)) texts.set(text, texts.size);
        });
      }
      return fields;
    });
    let vectors: Float32Array[] = [];
    if (embedder !== null && texts.size > 0) {
      const raw = await embedder.documents([...texts.keys()]);
      if (!Array.isArray(raw) || raw.length !== texts.size) {
        throw invalidArgument(`the embedding function returned ${Array.isArray(raw) ? raw.length : describeValue(raw)} vectors for ${texts.size} texts`);
      }
      vectors = raw.map((vector) => this.#vector(vector, 'an embedding'));
    }
    return puts.map((put, i) => ({
      namespace: put.namespace,
      key: put.key,
      value: put.json,
      ttlMinutes: put.ttl,
      vectors: fieldsOf[i]!.map(([field, text]) => {
        const vector = vectors[texts.get(text)!]!;
        return [field, vector, vectorNorm(vector)] as [string, Float32Array, number];
      }),
    }));
  }

  #vector(vector: unknown, what: string): Float32Array {
    if (!Array.isArray(vector) && !(vector instanceof Float32Array) && !(vector instanceof Float64Array)) {
      throw invalidArgument(`${what} must be an array of numbers, got ${describeValue(vector)}`);
    }
    const numbers = vector as ArrayLike<unknown>;
    if (numbers.length !== this.#dims) {
      throw invalidArgument(`${what} has ${numbers.length} dimensions; the store's index is configured with dims ${this.#dims}`);
    }
    const out = new Float32Array(numbers.length);
    for (let i = 0; i < numbers.length; i++) {
      const x = numbers[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw invalidArgument(`${what} holds ${describeValue(x)} at ${i}, not a finite number`);
      out[i] = x;
    }
    return out;
  }
}

function embedderOf(embed: unknown): Embedder {
  if (typeof embed === 'function') {
    const fn = embed as EmbedFunction;
    return { documents: (texts) => fn(texts), query: async (text) => (await fn([text]))[0]! };
  }
  if (typeof embed === 'object' && embed !== null) {
    const e = embed as Partial<EmbeddingsLike>;
    if (typeof e.embedDocuments === 'function' && typeof e.embedQuery === 'function') {
      return { documents: (texts) => e.embedDocuments!(texts), query: (text) => e.embedQuery!(text) };
    }
  }
  throw invalidArgument(
    `options.index.embed must be an Embeddings object (embedDocuments, embedQuery) or a function from texts to vectors, got ${describeValue(embed)}`,
  );
}
