import { LG_STORE } from '../../catalogue/adapter-tables.js';
import {
  decodeNamespace,
  filterMatches,
  lgStoreGet,
  lgStoreListNamespaces,
  lgStorePut,
  lgStoreRank,
  lgStoreRefresh,
  lgStoreSearch,
  lgStoreSweep,
  NAMESPACE_SEPARATOR,
  TopScores,
  vectorNorm,
  type StoredItem,
} from '../../catalogue/langgraph-store.js';
import type { RawRow } from '../../catalogue/table.js';
import { implement } from '../operation.js';
import { NOW } from './sql.js';

// LangGraph.js's memory store on PostgreSQL (lg_store, lg_store_vectors), with the
// semantics of src/catalogue/langgraph-store.ts: namespaces stored with their labels joined
// by U+001F (a subtree is the key range [ns, ns + U+0020)), filters evaluated by the same
// function as on SQLite, semantic search ranked exhaustively by cosine similarity.

/** The first character past the separator: `ns + SUBTREE_END` bounds ns's subtree. */
const SUBTREE_END = '\u0020';
const SEP = 'chr(31)';

/**
 * Whether an item is visible. Against the statement's start, not clock_timestamp(): a
 * stable bound, so the sweeper's range is an index range.
 */
const LIVE = (alias = ''): string => `(${alias}expires_at IS NULL OR ${alias}expires_at > statement_timestamp())`;
/** `minutes` minutes from now (the column keeps milliseconds). */
const EXPIRES_IN = (minutes: string): string => `${NOW} + make_interval(secs => ${minutes} * 60)`;

/** An item row (LG_STORE.columns first) as reads return it. */
function storedItem(row: RawRow, score: number | null): StoredItem {
  const item = LG_STORE.decode(row);
  return {
    namespace: decodeNamespace(item.namespace),
    key: item.key,
    value: item.value,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    score,
    expires: item.ttlMinutes !== null,
  };
}

export const pgLgStoreGet = implement(lgStoreGet, {
  statements: { item: `SELECT ${LG_STORE.columns} FROM lg_store WHERE namespace = $1 AND key = $2 AND ${LIVE()}` },
  async run(q, [namespace, key]) {
    const row = await q.one('item', [namespace, key]);
    return row === undefined ? undefined : storedItem(row, null);
  },
});

/** Rows a filtered search reads at a time: the filter is the SQLite engine's own, run here. */
const SEARCH_PAGE = 256;
const ITEMS = `SELECT ${LG_STORE.columns} FROM lg_store WHERE`;
const BY_KEY = 'ORDER BY namespace, key';

export const pgLgStoreSearch = implement(lgStoreSearch, {
  // A filtered search may read several pages; they must see one snapshot. Without a filter
  // it is one statement, its own snapshot.
  mode: 'snapshot',
  oneStatement: ([search]) => search.filter === null || search.limit === 0,
  statements: {
    under: `${ITEMS} namespace >= $1 AND namespace < $2 AND ${LIVE()} ${BY_KEY} OFFSET $3 LIMIT $4`,
    underAfter: `${ITEMS} namespace >= $1 AND namespace < $2 AND (namespace, key) > ($3, $4) AND ${LIVE()} ${BY_KEY} LIMIT $5`,
    all: `${ITEMS} ${LIVE()} ${BY_KEY} OFFSET $1 LIMIT $2`,
    allAfter: `${ITEMS} (namespace, key) > ($1, $2) AND ${LIVE()} ${BY_KEY} LIMIT $3`,
  },
  async run(q, [search]) {
    const { prefix, filter, limit, offset } = search;
    if (limit === 0) return [];
    const range = prefix === null ? [] : [prefix, prefix + SUBTREE_END];
    const page = (skip: number, count: number): Promise<RawRow[]> =>
      prefix === null ? q.all('all', [skip, count]) : q.all('under', [...range, skip, count]);
    // Without a filter the page is the statement's.
    if (filter === null) return (await page(offset, limit)).map((row) => storedItem(row, null));
    // With one, in key order, a page of rows at a time, until the page is full.
    const found: StoredItem[] = [];
    let skipped = 0;
    let rows = await page(0, SEARCH_PAGE);
    for (;;) {
      for (const row of rows) {
        const item = storedItem(row, null);
        if (!filterMatches(item.value, filter)) continue;
        if (skipped < offset) {
          skipped++;
          continue;
        }
        found.push(item);
        if (found.length >= limit) return found;
      }
      if (rows.length < SEARCH_PAGE) return found;
      const last = LG_STORE.decode(rows.at(-1)!);
      const after = [last.namespace, last.key];
      rows = prefix === null ? await q.all('allAfter', [...after, SEARCH_PAGE]) : await q.all('underAfter', [...range, ...after, SEARCH_PAGE]);
    }
  },
});

// Ranking: the item's best cosine similarity over its vectors, computed in SQL in double
// precision over the float4 values (the SQLite engine's arithmetic, term for term), 0 when
// either norm is 0, NULL for an item without vectors. Exhaustive: every candidate is
// scored. pgvector is not used: it would need a column of one fixed dimension and an
// extension the server may not have.
const SCORE =
  'LEFT JOIN LATERAL (SELECT max(CASE WHEN v.norm = 0 OR $2::float8 = 0 THEN 0 ELSE ' +
  '(SELECT sum(a::float8 * b::float8) FROM unnest(v.embedding, $1::real[]) AS t (a, b)) / (v.norm * $2::float8) END) AS score ' +
  'FROM lg_store_vectors AS v WHERE v.namespace = s.namespace AND v.key = s.key) AS best ON true';
/** The candidates of one share ($3 parts, $4 part), under a prefix ($5, $6) or not. */
const candidates = (under: boolean): string =>
  `SELECT ${LG_STORE.qualified('s')}, best.score FROM lg_store AS s ${SCORE} ` +
  `WHERE ${under ? 's.namespace >= $5 AND s.namespace < $6 AND ' : ''}s.rowid % $3 = $4 AND ${LIVE('s.')}`;
/**
 * Without a filter the database keeps the page: the best `wanted` scored items (ties in key
 * order), then the first `wanted` items without vectors in key order. ($7: wanted.)
 */
const best = (under: boolean): string => {
  const wanted = under ? '$7' : '$5';
  return (
    `WITH c AS MATERIALIZED (${candidates(under)}) ` +
    `(SELECT * FROM c WHERE c.score IS NOT NULL ORDER BY c.score DESC, c.namespace, c.key LIMIT ${wanted}) ` +
    `UNION ALL (SELECT * FROM c WHERE c.score IS NULL ORDER BY c.namespace, c.key LIMIT ${wanted})`
  );
};

export const pgLgStoreRank = implement(lgStoreRank, {
  statements: {
    bestUnder: best(true),
    bestAll: best(false),
    // With a filter: every candidate, in key order, for the filter to run on.
    filteredUnder: `${candidates(true)} ORDER BY s.namespace, s.key`,
    filteredAll: `${candidates(false)} ORDER BY s.namespace, s.key`,
  },
  async run(q, [rank]) {
    const { prefix, filter, wanted, query, part, parts } = rank;
    const params = [Array.from(query), vectorNorm(query), parts, part, ...(prefix === null ? [] : [prefix, prefix + SUBTREE_END])];
    // Each row: the item's columns, then its score.
    const scoreOf = (row: RawRow): number | null => LG_STORE.after(row) as number | null;
    if (filter === null) {
      const rows = await q.all(prefix === null ? 'bestAll' : 'bestUnder', [...params, wanted]);
      const scored: StoredItem[] = [];
      const unscored: StoredItem[] = [];
      for (const row of rows) {
        const score = scoreOf(row);
        (score === null ? unscored : scored).push(storedItem(row, score));
      }
      return { scored, unscored };
    }
    const rows = await q.all(prefix === null ? 'filteredAll' : 'filteredUnder', params);
    const top = new TopScores<StoredItem>(wanted);
    const unscored: StoredItem[] = [];
    for (const row of rows) {
      const item = storedItem(row, scoreOf(row));
      if (!filterMatches(item.value, filter)) continue;
      if (item.score === null) {
        if (unscored.length < wanted) unscored.push(item);
      } else {
        top.offer(item.score, () => item);
      }
    }
    return { scored: top.entries.map(([, item]) => item), unscored };
  },
});

// listNamespaces: one recursive statement walks the distinct namespaces in order, one index
// seek per namespace listed or passed over, as the SQLite engine's walk does: from a
// namespace to the next, or past a whole subtree once maxDepth has cut it and listed it.
// The labels of each are matched against the prefix ($3) and suffix ($4), '*' matching
// any label; maxDepth is $5. Namespaces listed are the walk's distinct cut names.
const MATCH = (ns: string): string =>
  'SELECT CASE WHEN t.ok THEN array_to_string(CASE WHEN t.cut THEN t.labels[1:$5] ELSE t.labels END, ' +
  `${SEP}) END AS name, t.ok AND t.cut AS cut FROM (SELECT l.labels, ` +
  '($3::text[] IS NULL OR (cardinality($3::text[]) <= cardinality(l.labels) AND NOT EXISTS (SELECT 1 FROM unnest($3::text[]) ' +
  "WITH ORDINALITY AS p (label, i) WHERE p.label <> '*' AND p.label <> l.labels[p.i::int]))) AND " +
  '($4::text[] IS NULL OR (cardinality($4::text[]) <= cardinality(l.labels) AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) ' +
  "WITH ORDINALITY AS p (label, i) WHERE p.label <> '*' AND p.label <> l.labels[cardinality(l.labels) - cardinality($4::text[]) + p.i::int]))) AS ok, " +
  `$5::int IS NOT NULL AND cardinality(l.labels) > $5::int AS cut FROM (SELECT string_to_array(${ns}, ${SEP}) AS labels) AS l) AS t`;
const FIRST_FROM = (bound: string): string =>
  `(SELECT namespace FROM lg_store WHERE namespace ${bound} AND ${LIVE()} ORDER BY namespace LIMIT 1)`;

export const pgLgStoreListNamespaces = implement(lgStoreListNamespaces, {
  statements: {
    walk:
      'WITH RECURSIVE walk (ns, name, cut, prev, listed) AS (' +
      `SELECT s.ns, m.name, m.cut, m.name, m.name IS NOT NULL FROM (SELECT ${FIRST_FROM('>= $1')} AS ns) AS s ` +
      `CROSS JOIN LATERAL (${MATCH('s.ns')}) AS m WHERE s.ns IS NOT NULL AND ($2::text IS NULL OR s.ns < $2) ` +
      'UNION ALL ' +
      'SELECT s.ns, m.name, m.cut, coalesce(m.name, w.prev), m.name IS NOT NULL AND m.name IS DISTINCT FROM w.prev FROM walk AS w ' +
      `CROSS JOIN LATERAL (SELECT CASE WHEN w.cut THEN ${FIRST_FROM(`>= w.name || '${SUBTREE_END}'`)} ` +
      `ELSE ${FIRST_FROM('> w.ns')} END AS ns) AS s ` +
      `CROSS JOIN LATERAL (${MATCH('s.ns')}) AS m WHERE s.ns IS NOT NULL AND ($2::text IS NULL OR s.ns < $2)) ` +
      'SELECT name FROM walk WHERE listed OFFSET $6 LIMIT $7',
  },
  async run(q, [query]) {
    const { prefix, suffix, maxDepth, limit, offset } = query;
    // The labels before the first wildcard bound the walk to one subtree.
    const lead = prefix === null ? [] : prefix.slice(0, prefix.indexOf('*') < 0 ? prefix.length : prefix.indexOf('*'));
    const lo = lead.join(NAMESPACE_SEPARATOR);
    const hi = lead.length === 0 ? null : lo + SUBTREE_END;
    const rows = await q.all('walk', [lo, hi, prefix, suffix, maxDepth, offset, limit]);
    return rows.map(([name]) => decodeNamespace(name as string));
  },
});

export const pgLgStorePut = implement(lgStorePut, {
  statements: {
    // The item and its vectors, in one statement. An expired item that the sweeper has not
    // reached yet is gone already: it is replaced as if new. Returns whether a live item
    // was there (NULL: none was, or it had expired and this put raced its insertion). The
    // vectors become these ([] for none): other fields' go, these are set (their foreign
    // key is checked at the statement's end, after the item's insertion).
    upsert:
      `WITH old AS (SELECT ${LIVE()} AS live FROM lg_store WHERE namespace = $1 AND key = $2 FOR UPDATE), ` +
      'item AS (INSERT INTO lg_store AS s (namespace, key, value, ttl_minutes, expires_at) ' +
      `VALUES ($1, $2, $3::jsonb, $4::float8, CASE WHEN $4::float8 IS NULL THEN NULL ELSE ${EXPIRES_IN('$4::float8')} END) ` +
      `ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = ${NOW}, ttl_minutes = excluded.ttl_minutes, ` +
      `expires_at = excluded.expires_at, created_at = CASE WHEN ${LIVE('s.')} THEN s.created_at ELSE ${NOW} END ` +
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      "RETURNING s.xmax::text <> '0' AND coalesce((SELECT live FROM old), true) AS existed), " +
      'gone AS (DELETE FROM lg_store_vectors WHERE namespace = $1 AND key = $2 AND field <> ALL ($5::text[])), ' +
      'vectors AS (INSERT INTO lg_store_vectors (namespace, key, field, embedding, norm) ' +
      'SELECT $1, $2, x.field, x.embedding::real[], x.norm FROM unnest($5::text[], $6::text[], $7::float8[]) AS x (field, embedding, norm) ' +
      'ON CONFLICT (namespace, key, field) DO UPDATE SET embedding = excluded.embedding, norm = excluded.norm) ' +
      'SELECT existed FROM item',
    remove:
      'WITH gone AS (DELETE FROM lg_store WHERE namespace = $1 AND key = $2 RETURNING expires_at), ' +
      'v AS (DELETE FROM lg_store_vectors WHERE namespace = $1 AND key = $2) ' +
      `SELECT ${LIVE()} FROM gone`,
  },
  async run(q, [puts]) {
    for (const put of puts) {
      const { namespace, key, value } = put;
      let exists: boolean;
      if (value === null) {
        exists = (await q.value('remove', [namespace, key])) === true;
        // Nothing there, or only an expired item: nothing to audit.
        if (!exists) continue;
      } else {
        exists =
          (await q.value('upsert', [
            namespace,
            key,
            value,
            put.ttlMinutes,
            put.vectors.map(([field]) => field),
            // As array literals: one text per vector (an array of arrays would be one array).
            put.vectors.map(([, embedding]) => `{${embedding.join(',')}}`),
            put.vectors.map(([, , norm]) => norm),
          ])) === true;
      }
      const operation = value === null ? 'delete' : exists ? 'update' : 'create';
      await q.audit(undefined, {
        action: value === null ? 'langgraph_store_delete' : 'langgraph_store_put',
        data: { namespace: decodeNamespace(namespace), key },
        memory: { operation, namespace: decodeNamespace(namespace).join(':'), entryId: null },
      });
    }
  },
});

export const pgLgStoreRefresh = implement(lgStoreRefresh, {
  statements: {
    // Counted per item named, as one update per item would count them.
    refresh:
      `WITH r AS (UPDATE lg_store AS s SET expires_at = ${EXPIRES_IN('s.ttl_minutes')} ` +
      'FROM (SELECT DISTINCT namespace, key FROM unnest($1::text[], $2::text[]) AS x (namespace, key)) AS x ' +
      'WHERE s.namespace = x.namespace AND s.key = x.key AND s.ttl_minutes IS NOT NULL AND s.expires_at > statement_timestamp() ' +
      'RETURNING s.namespace, s.key) ' +
      'SELECT count(*)::int FROM unnest($1::text[], $2::text[]) AS x (namespace, key) JOIN r ON r.namespace = x.namespace AND r.key = x.key',
  },
  async run(q, [items]) {
    const refreshed = (await q.value('refresh', [items.map(([namespace]) => namespace), items.map(([, key]) => key)])) as number;
    if (refreshed > 0) await q.audit(undefined, { action: 'langgraph_store_refresh_ttl', data: { refreshed } });
    return refreshed;
  },
});

export const pgLgStoreSweep = implement(lgStoreSweep, {
  statements: {
    // Sweepers on other hosts take other expired items (SKIP LOCKED), not the same ones.
    sweep:
      'WITH expired AS (SELECT namespace, key FROM lg_store WHERE expires_at <= statement_timestamp() ORDER BY expires_at LIMIT $1 ' +
      'FOR UPDATE SKIP LOCKED), ' +
      'gone AS (DELETE FROM lg_store AS s USING expired AS e WHERE s.namespace = e.namespace AND s.key = e.key RETURNING s.namespace, s.key), ' +
      'v AS (DELETE FROM lg_store_vectors AS v USING gone AS g WHERE v.namespace = g.namespace AND v.key = g.key) ' +
      'SELECT count(*)::int FROM gone',
  },
  async run(q, [max]) {
    const deleted = (await q.value('sweep', [max])) as number;
    if (deleted > 0) await q.audit(undefined, { action: 'langgraph_store_sweep', data: { deleted } });
    return deleted;
  },
});

export const pgLangGraphStoreOperations = [
  pgLgStoreGet,
  pgLgStoreSearch,
  pgLgStoreRank,
  pgLgStoreListNamespaces,
  pgLgStorePut,
  pgLgStoreRefresh,
  pgLgStoreSweep,
];
