import { describe, expect, it, vi } from 'vitest';
import { AbathurStore, type EmbedFunction } from '../src/langgraph/index.js';
import type { Store } from '../src/store.js';
import type { Item, Operation } from '@langchain/langgraph-checkpoint';
import { describeEachEngine } from './helpers/engines.js';
import { settleAll } from './helpers/store.js';
import { parseFieldPath, textsAt } from '../src/langgraph/field-paths.js';

const WORDS = ['cat', 'dog', 'fish', 'bird', 'car', 'bike', 'tree', 'sea'];

/** A deterministic embedding: how often each of eight words occurs. Records every text it embeds. */
function wordEmbedding(): { embed: EmbedFunction; texts: string[] } {
  const texts: string[] = [];
  const embed: EmbedFunction = (batch) => {
    texts.push(...batch);
    return Promise.resolve(batch.map((text) => WORDS.map((w) => text.toLowerCase().split(w).length - 1)));
  };
  return { embed, texts };
}

const keys = (items: { key: string }[]) => items.map((i) => i.key);

describeEachEngine('AbathurStore items', (engine) => {
  it('puts, gets, updates (createdAt kept, updatedAt moved) and deletes, auditing each change', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store);
    await memory.put(['users', 'alice'], 'prefs', { theme: 'dark' });
    const first = await memory.get(['users', 'alice'], 'prefs');
    expect(first).toMatchObject({ namespace: ['users', 'alice'], key: 'prefs', value: { theme: 'dark' } });
    expect(first?.createdAt).toBeInstanceOf(Date);
    await new Promise((r) => setTimeout(r, 5));
    await memory.put(['users', 'alice'], 'prefs', { theme: 'light' });
    const second = await memory.get(['users', 'alice'], 'prefs');
    expect(second?.value).toEqual({ theme: 'light' });
    expect(second?.createdAt).toEqual(first?.createdAt);
    expect(second!.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
    await memory.delete(['users', 'alice'], 'prefs');
    expect(await memory.get(['users', 'alice'], 'prefs')).toBeNull();
    await memory.delete(['users', 'alice'], 'prefs'); // nothing there: nothing written
    const audit = (await store.audit.list({ namespacePrefix: 'users:alice' })).items;
    expect(audit.map((e) => [e.actionType, e.memoryOperationType, e.memoryNamespace])).toEqual([
      ['langgraph_store_delete', 'delete', 'users:alice'],
      ['langgraph_store_put', 'update', 'users:alice'],
      ['langgraph_store_put', 'create', 'users:alice'],
    ]);
  });

  it('audits concurrent puts of one new key as one create and then updates, and keeps one of their values', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store);
    await Promise.all(Array.from({ length: 8 }, (_, i) => memory.put(['race'], 'k', { i })));
    const audit = (await store.audit.list({ namespacePrefix: 'race' })).items.map((e) => e.memoryOperationType);
    expect(audit.filter((op) => op === 'create')).toHaveLength(1);
    expect(audit.filter((op) => op === 'update')).toHaveLength(7);
    expect(audit.at(-1)).toBe('create');
    expect((await memory.get(['race'], 'k'))?.value).toEqual({ i: expect.any(Number) as number });
  });

  it('runs a batch as LangGraph stores do: reads see the store before the batch, the last put of a key wins', async () => {
    const memory = new AbathurStore(await engine.open());
    await memory.put(['a'], 'k', { v: 0 });
    const results = (await memory.batch([
      { namespace: ['a'], key: 'k', value: { v: 1 } },
      { namespace: ['a'], key: 'k' },
      { namespacePrefix: ['a'], limit: 10, offset: 0 },
      { namespace: ['a'], key: 'k', value: { v: 2 } },
      { namespace: ['a'], key: 'new', value: { v: 3 } },
      { matchConditions: undefined, limit: 10, offset: 0 },
    ] as Operation[])) as unknown[];
    expect(results[0]).toBeNull();
    expect((results[1] as Item).value).toEqual({ v: 0 });
    expect(keys(results[2] as Item[])).toEqual(['k']);
    expect(results[5]).toEqual([['a']]);
    expect((await memory.get(['a'], 'k'))?.value).toEqual({ v: 2 });
    expect((await memory.get(['a'], 'new'))?.value).toEqual({ v: 3 });
  });

  it('refuses bad input with INVALID_ARGUMENT and writes nothing of the batch', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store);
    const good = { namespace: ['ok'], key: 'k', value: { v: 1 } };
    const bad: unknown[] = [
      { namespace: ['users', 7], key: 'k', value: {} },
      { namespace: [], key: 'k', value: {} },
      { namespace: ['a.b'], key: 'k', value: {} },
      { namespace: ['a\0b'], key: 'k', value: {} },
      { namespace: ['a:b'], key: 'k', value: {} },
      { namespace: ['a\u001fb'], key: 'k', value: {} },
      { namespace: [''], key: 'k', value: {} },
      { namespace: 'users', key: 'k', value: {} },
      { namespace: ['a'], key: 7, value: {} },
      { namespace: ['a'], key: 'k', value: ['array'] },
      { namespace: ['a'], key: 'k', value: { when: new Date() } },
      { namespace: ['a'], key: 'k', value: undefined },
      { namespace: ['a'], key: 'k', value: {}, ttl: -1 },
      { namespace: ['a'], key: 'k', value: {}, index: 'title' },
      { namespace: ['a'], key: 'k', value: {}, index: ['a[x]'] },
      { namespacePrefix: ['a'], filter: { n: { $exists: true } } },
      { namespacePrefix: ['a'], filter: { n: { $in: 3 } } },
      { namespacePrefix: ['a'], filter: 'n' },
      { namespacePrefix: ['a'], limit: 5000 },
      { namespacePrefix: ['a'], offset: -1 },
      { namespace: ['a'], key: 'k', refreshTtl: 'yes' },
      { matchConditions: [{ matchType: 'infix', path: ['a'] }], limit: 1, offset: 0 },
      { matchConditions: [{ matchType: 'prefix', path: ['a.b'] }], limit: 1, offset: 0 },
      { matchConditions: 'a', limit: 1, offset: 0 },
      { matchConditions: [], maxDepth: 0, limit: 1, offset: 0 },
      { namespace: ['a'] },
      null,
    ];
    const { values, errors } = await settleAll(bad.map((op) => memory.batch([good, op as never])));
    expect(values).toEqual([]);
    expect(errors).toHaveLength(bad.length);
    for (const error of errors) expect(error).toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT' });
    const direct = await settleAll<unknown>([
      memory.put(['langgraph', 'x'], 'k', {}),
      memory.put(['a'], 'k', {}, undefined, { ttl: 0 }),
      memory.get(['a'], 'k', { refresh: true } as never),
      memory.search(['a'], { limit: 1.5 }),
      memory.listNamespaces({ maxDepth: -1 }),
      memory.batch('ops' as never),
    ]);
    expect(direct.errors.map((e) => e.code)).toEqual(Array(6).fill('INVALID_ARGUMENT'));
    expect(direct.errors[0]?.message).toMatch(/must not start with "langgraph"/);
    expect(await engine.rows(store, 'SELECT * FROM lg_store')).toEqual([]);
    expect((await store.audit.list()).items).toEqual([]);
    const small = new AbathurStore(await engine.open({ maxPayloadBytes: 1024 }));
    await expect(small.put(['a'], 'big', { text: 'x'.repeat(2000) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/maxPayloadBytes/) });
    expect(await small.get(['a'], 'big')).toBeNull();
    // batch() itself lets LangGraph's reserved root through, as LangGraph's own stores do.
    await memory.batch([{ namespace: ['langgraph', 'x'], key: 'k', value: { ok: true } }]);
    expect((await memory.get(['langgraph', 'x'], 'k'))?.value).toEqual({ ok: true });
  });
});

describeEachEngine('AbathurStore namespaces', (engine) => {
  async function seeded(): Promise<AbathurStore> {
    const memory = new AbathurStore(await engine.open());
    const namespaces = [
      ['users', 'alice'],
      ['users', 'alice', 'notes'],
      ['users', 'alice', 'notes', 'v1'],
      ['users', 'alicex'],
      ['users', 'alice-b'],
      ['users', 'al'],
      ['users', 'bob', 'v1'],
      ['a', 'b', 'c'],
      ['a', 'bc'],
      ['a-b'],
      ['docs', '*'],
    ];
    await memory.batch(namespaces.map((namespace, i) => ({ namespace, key: `k${i}`, value: { i } })));
    return memory;
  }

  it('matches prefixes label by label, never inside a label', async () => {
    const memory = await seeded();
    const under = async (prefix: string[]) => (await memory.search(prefix, { limit: 100 })).map((i) => i.namespace.join('/'));
    expect(await under(['users', 'alice'])).toEqual(['users/alice', 'users/alice/notes', 'users/alice/notes/v1']);
    expect(await under(['users', 'al'])).toEqual(['users/al']);
    expect(await under(['a', 'b'])).toEqual(['a/b/c']);
    expect(await under(['a'])).toEqual(['a/b/c', 'a/bc']);
    expect(await under(['docs', '*'])).toEqual(['docs/*']);
    expect((await under([])).length).toBe(11);
  });

  it('lists namespaces in label order with prefix, suffix, wildcards, maxDepth, limit and offset', async () => {
    const memory = await seeded();
    const list = async (o: Parameters<AbathurStore['listNamespaces']>[0]) => (await memory.listNamespaces(o)).map((n) => n.join('/'));
    expect(await list({ prefix: ['users', 'alice'] })).toEqual(['users/alice', 'users/alice/notes', 'users/alice/notes/v1']);
    expect(await list({ prefix: ['users'], maxDepth: 2 })).toEqual(['users/al', 'users/alice', 'users/alice-b', 'users/alicex', 'users/bob']);
    expect(await list({ suffix: ['v1'] })).toEqual(['users/alice/notes/v1', 'users/bob/v1']);
    expect(await list({ prefix: ['users', '*', 'v1'] })).toEqual(['users/bob/v1']);
    expect(await list({ prefix: ['*', 'alice'], suffix: ['notes'] })).toEqual(['users/alice/notes']);
    expect(await list({ maxDepth: 1 })).toEqual(['a', 'a-b', 'docs', 'users']);
    expect(await list({ maxDepth: 1, limit: 2, offset: 1 })).toEqual(['a-b', 'docs']);
    expect(await list({ suffix: ['v1'], maxDepth: 1 })).toEqual(['users']);
    expect(await list({ prefix: ['nobody'] })).toEqual([]);
    expect(await list({ limit: 0 })).toEqual([]);
    // Two prefix conditions must both hold.
    const both = await memory.batch([
      { matchConditions: [{ matchType: 'prefix', path: ['users', '*'] }, { matchType: 'prefix', path: ['*', 'bob'] }], limit: 10, offset: 0 },
      { matchConditions: [{ matchType: 'prefix', path: ['users'] }, { matchType: 'prefix', path: ['a'] }], limit: 10, offset: 0 },
    ]);
    expect(both).toEqual([[['users', 'bob', 'v1']], []]);
  });

  it('stops listing a namespace once its last item is deleted', async () => {
    const memory = await seeded();
    await memory.delete(['a-b'], 'k9');
    expect((await memory.listNamespaces({ maxDepth: 1 })).map((n) => n.join('/'))).toEqual(['a', 'docs', 'users']);
  });
});

describeEachEngine('AbathurStore search filters', (engine) => {
  it('applies equality and the comparison operators to top-level keys, then offset and limit', async () => {
    const memory = new AbathurStore(await engine.open());
    const items = [
      { color: 'red', score: 4.5, tags: ['a'], meta: { x: 1, y: 2 } },
      { color: 'blue', score: 3 },
      { color: 'red', score: 2, tags: ['b'] },
      { color: 'green', score: '5' },
      { color: 'red', score: 5, meta: { y: 2, x: 1 } },
    ];
    await memory.batch(items.map((value, i) => ({ namespace: ['items'], key: `i${i}`, value })));
    const found = async (filter: Record<string, unknown>, o: { limit?: number; offset?: number } = {}) =>
      keys(await memory.search(['items'], { filter, ...o }));
    expect(await found({ color: 'red' })).toEqual(['i0', 'i2', 'i4']);
    expect(await found({ color: 'red', score: { $gte: 4.5 } })).toEqual(['i0', 'i4']);
    expect(await found({ score: { $gt: 4.5 } })).toEqual(['i3', 'i4']);
    expect(await found({ score: { $lt: 3 } })).toEqual(['i2']);
    expect(await found({ score: { $lte: 3, $gt: 2 } })).toEqual(['i1']);
    expect(await found({ color: { $ne: 'red' } })).toEqual(['i1', 'i3']);
    expect(await found({ color: { $eq: 'blue' } })).toEqual(['i1']);
    expect(await found({ color: { $in: ['blue', 'green'] } })).toEqual(['i1', 'i3']);
    expect(await found({ color: { $nin: ['blue', 'green'] } })).toEqual(['i0', 'i2', 'i4']);
    expect(await found({ tags: ['a'] })).toEqual(['i0']);
    expect(await found({ meta: { x: 1, y: 2 } })).toEqual(['i0', 'i4']);
    expect(await found({ 'meta.x': 1 })).toEqual([]);
    expect(await found({ color: 'red' }, { offset: 1, limit: 1 })).toEqual(['i2']);
    expect(await found({}, { limit: 0 })).toEqual([]);
    expect(await found({ absent: undefined })).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
  });

  it('filters past the rows one read returns, offset and limit counted among the matches', async () => {
    const memory = new AbathurStore(await engine.open());
    const key = (i: number) => `k${String(i).padStart(3, '0')}`;
    await memory.batch(Array.from({ length: 700 }, (_, i) => ({ namespace: ['many'], key: key(i), value: { seventh: i % 7 === 0 } })));
    const matching = Array.from({ length: 100 }, (_, i) => key(7 * i));
    expect(keys(await memory.search(['many'], { filter: { seventh: true }, offset: 40, limit: 50 }))).toEqual(matching.slice(40, 90));
    expect(keys(await memory.search([], { filter: { seventh: true }, offset: 95, limit: 10 }))).toEqual(matching.slice(95));
    const others = Array.from({ length: 700 }, (_, i) => i).filter((i) => i % 7 !== 0).map(key);
    expect(keys(await memory.search(['many'], { filter: { seventh: false }, offset: 590, limit: 10 }))).toEqual(others.slice(590));
  });
});

describeEachEngine('AbathurStore semantic search', (engine) => {
  it('ranks by cosine similarity with a deterministic embedding; items without vectors follow', async () => {
    const { embed, texts } = wordEmbedding();
    const memory = new AbathurStore(await engine.open(), { index: { dims: WORDS.length, embed, fields: ['text'] } });
    await memory.batch([
      { namespace: ['docs'], key: 'cats', value: { text: 'cat cat cat dog' } },
      { namespace: ['docs'], key: 'dogs', value: { text: 'dog dog dog cat' } },
      { namespace: ['docs'], key: 'sea', value: { text: 'fish sea sea' } },
      { namespace: ['docs'], key: 'same', value: { text: 'cat cat cat dog' } },
      { namespace: ['docs'], key: 'plain', value: { text: 'cars' }, index: false },
      { namespace: ['docs'], key: 'untexted', value: { other: 'cat' } },
    ]);
    // Each distinct text embedded once.
    expect(texts.sort()).toEqual(['cat cat cat dog', 'dog dog dog cat', 'fish sea sea']);
    const ranked = await memory.search(['docs'], { query: 'cat', limit: 10 });
    expect(keys(ranked)).toEqual(['cats', 'same', 'dogs', 'sea', 'plain', 'untexted']);
    expect(ranked[0]!.score).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(ranked[2]!.score).toBeCloseTo(1 / Math.sqrt(10), 6);
    expect(ranked[3]!.score).toBe(0);
    expect(ranked[4]!.score).toBeUndefined();
    expect(keys(await memory.search(['docs'], { query: 'sea fish', limit: 1 }))).toEqual(['sea']);
    expect(keys(await memory.search(['docs'], { query: 'cat', offset: 2, limit: 3 }))).toEqual(['dogs', 'sea', 'plain']);
    expect(keys(await memory.search(['docs'], { query: 'dog', filter: { text: { $ne: 'dog dog dog cat' } } }))).toEqual(['cats', 'same', 'sea', 'plain', 'untexted']);
    // Without a query: key order, no scores.
    expect((await memory.search(['docs'])).map((i) => i.score)).toEqual(Array(6).fill(undefined));
  });

  it('ranks the same whether one reader or several score shares of the items (ties in key order)', async () => {
    const ranked = async (readers: number) => {
      const { embed } = wordEmbedding();
      const memory = new AbathurStore(await engine.open({ readers }), { index: { dims: WORDS.length, embed, fields: ['t'] } });
      const words = ['cat', 'dog', 'cat dog', 'sea', 'cat cat', 'tree', 'dog dog cat'];
      await memory.batch(Array.from({ length: 40 }, (_, i) => ({ namespace: ['n', `s${i % 3}`], key: `k${String(i).padStart(2, '0')}`, value: i % 9 === 0 ? { other: i } : { t: words[i % words.length]! } })));
      const pages = [];
      for (const [offset, limit] of [[0, 10], [5, 10], [30, 10], [0, 40]] as const) {
        pages.push((await memory.search(['n'], { query: 'cat', offset, limit })).map((i) => `${i.namespace.join('/')}/${i.key}:${i.score?.toFixed(4)}`));
      }
      return pages;
    };
    const one = await ranked(1);
    expect(one[3]).toHaveLength(40);
    expect(await ranked(3)).toEqual(one); // two shares
  });

  it('embeds the fields an item names, every text of a path, and the whole value by default', async () => {
    const { embed, texts } = wordEmbedding();
    const store = await engine.open();
    const memory = new AbathurStore(store, { index: { dims: WORDS.length, embed } });
    await memory.put(['d'], 'whole', { title: 'bird' });
    await memory.put(['d'], 'parts', { title: 'tree', chapters: [{ body: 'car' }, { body: 'bike' }], n: 3 }, ['title', 'chapters[*].body', 'n', '{title,n}']);
    expect(texts).toEqual([JSON.stringify({ title: 'bird' }, null, 2), 'tree', 'car', 'bike', '3']);
    expect(await engine.rows(store, "SELECT key, field FROM lg_store_vectors ORDER BY key, field")).toEqual([
      { key: 'parts', field: 'chapters[*].body.0' },
      { key: 'parts', field: 'chapters[*].body.1' },
      { key: 'parts', field: 'n' },
      { key: 'parts', field: 'title' },
      { key: 'parts', field: '{title,n}.0' },
      { key: 'parts', field: '{title,n}.1' },
      { key: 'whole', field: '$' },
    ]);
    expect(keys(await memory.search(['d'], { query: 'bike' }))).toEqual(['parts', 'whole']);
    // A new value replaces the vectors; index false leaves none.
    await memory.put(['d'], 'parts', { title: 'sea' }, false);
    expect(await engine.rows(store, "SELECT field FROM lg_store_vectors WHERE key = 'parts'")).toEqual([]);
  });

  it('refuses an embedding of the wrong size, writing nothing, and a bad index config', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store, { index: { dims: 3, embed: (t) => Promise.resolve(t.map(() => [1, 2])) } });
    await expect(memory.put(['d'], 'k', { a: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/2 dimensions.*dims 3/) });
    expect(await engine.rows(store, 'SELECT * FROM lg_store')).toEqual([]);
    const nan = new AbathurStore(store, { index: { dims: 1, embed: (t) => Promise.resolve(t.map(() => [Number.NaN])) } });
    await expect(nan.put(['d'], 'k', { a: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const short = new AbathurStore(store, { index: { dims: 1, embed: () => Promise.resolve([]) } });
    await expect(short.put(['d'], 'k', { a: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new AbathurStore(store, { index: { dims: 3 } })).toThrow(/embed must be an Embeddings object/);
    expect(() => new AbathurStore(store, { index: { dims: 0, embed: () => Promise.resolve([]) } })).toThrow(/dims/);
    expect(() => new AbathurStore(store, { index: { dims: 3, embed: () => Promise.resolve([]), fields: ['a[?]'] } })).toThrow(/field path/);
    expect(() => new AbathurStore(store, { indx: {} } as never)).toThrow(/misspelled|unknown option/);
  });

  it('takes an Embeddings object under embeddings, as LangGraph’s IndexConfig names it', async () => {
    const { embed } = wordEmbedding();
    const embeddings = { embedDocuments: embed, embedQuery: async (q: string) => (await embed([q]))[0]! };
    const memory = new AbathurStore(await engine.open(), { index: { dims: WORDS.length, embeddings } });
    await memory.batch([
      { namespace: ['d'], key: 'car', value: { t: 'car' } },
      { namespace: ['d'], key: 'dog', value: { t: 'dog' } },
    ]);
    expect(keys(await memory.search(['d'], { query: 'dog' }))).toEqual(['dog', 'car']);
  });
});

describeEachEngine('AbathurStore time to live', (engine) => {
  const expiresAt = async (store: Store, key: string) =>
    ((await engine.rows(store, `SELECT expires_at FROM lg_store WHERE key = '${key}'`))[0] as { expires_at: string | null } | undefined)?.expires_at;

  it('hides an expired item from get, search and listNamespaces, and a sweep deletes it', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store, { ttl: { sweepIntervalMinutes: 0 } });
    await memory.put(['t'], 'short', { v: 1 }, undefined, { ttl: 0.0005 }); // 30 ms
    await memory.put(['t'], 'forever', { v: 2 });
    await memory.put(['gone'], 'short', { v: 3 }, undefined, { ttl: 0.0005 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await memory.get(['t'], 'short')).toBeNull();
    expect(keys(await memory.search(['t']))).toEqual(['forever']);
    expect(await memory.listNamespaces()).toEqual([['t']]);
    expect(await engine.rows(store, 'SELECT count(*) AS n FROM lg_store')).toEqual([{ n: 3 }]);
    expect(await memory.sweep()).toBe(2);
    expect(await engine.rows(store, 'SELECT key FROM lg_store')).toEqual([{ key: 'forever' }]);
    // A put over an expired, unswept item creates it afresh.
    await memory.put(['t'], 'again', { v: 1 }, undefined, { ttl: 0.0005 });
    await new Promise((r) => setTimeout(r, 100));
    await memory.put(['t'], 'again', { v: 2 });
    expect((await memory.get(['t'], 'again'))?.value).toEqual({ v: 2 });
    expect(await expiresAt(store, 'again')).toBeNull();
  });

  it('pushes an expiring item’s expiry out on a read, unless the read or the store says not to', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store, { ttl: { defaultTtl: 10, sweepIntervalMinutes: 0 } });
    await memory.put(['t'], 'a', { v: 1 });
    await memory.put(['t'], 'b', { v: 1 }, undefined, { ttl: null });
    const before = (await expiresAt(store, 'a'))!;
    expect(before).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await expiresAt(store, 'b')).toBeNull();
    await new Promise((r) => setTimeout(r, 20));
    await memory.get(['t'], 'a', { refreshTtl: false });
    expect(await expiresAt(store, 'a')).toBe(before);
    await memory.get(['t'], 'a');
    const afterGet = (await expiresAt(store, 'a'))!;
    expect(afterGet > before).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    await memory.search(['t']);
    expect((await expiresAt(store, 'a'))! > afterGet).toBe(true);
    const noRefresh = new AbathurStore(store, { ttl: { refreshOnRead: false, sweepIntervalMinutes: 0 } });
    const settled = await expiresAt(store, 'a');
    await new Promise((r) => setTimeout(r, 20));
    await noRefresh.get(['t'], 'a');
    expect(await expiresAt(store, 'a')).toBe(settled);
    expect((await store.audit.list({ limit: 1 })).items[0]?.actionType).toBe('langgraph_store_refresh_ttl');
  });

  it('sweeps on its own while the store is open, and stops when told', async () => {
    const store = await engine.open();
    const memory = new AbathurStore(store, { ttl: { sweepIntervalMinutes: 0.001 } }); // every 60 ms
    await memory.put(['t'], 'short', { v: 1 }, undefined, { ttl: 0.0005 });
    await vi.waitFor(async () => expect(await engine.rows(store, 'SELECT key FROM lg_store')).toEqual([]), { timeout: 5000, interval: 50 });
    memory.stop();
    await memory.put(['t'], 'short', { v: 1 }, undefined, { ttl: 0.0005 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await engine.rows(store, 'SELECT key FROM lg_store')).toEqual([{ key: 'short' }]);
    memory.start();
    await vi.waitFor(async () => expect(await engine.rows(store, 'SELECT key FROM lg_store')).toEqual([]), { timeout: 5000, interval: 50 });
    await memory.close();
  });
});

describe('AbathurStore lifecycle', () => {
  it('needs a store; fromPath opens one that close() closes', async () => {
    expect(() => new AbathurStore({} as never)).toThrow(/needs a Store from openStore\(\)/);
  });
});

describe('field paths', () => {
  const value = { title: 'T', n: 0, ok: false, none: null, tags: ['a', 'b', 'c'], doc: { parts: [{ t: 'x' }, { t: 'y' }], meta: { k: 1 } } };

  it('picks texts as LangGraph documents its paths', () => {
    expect(textsAt(value, 'title')).toEqual(['T']);
    expect(textsAt(value, 'n')).toEqual(['0']);
    expect(textsAt(value, 'ok')).toEqual(['false']);
    expect(textsAt(value, 'none')).toEqual([]);
    expect(textsAt(value, 'missing.deeper')).toEqual([]);
    expect(textsAt(value, 'tags[-1]')).toEqual(['c']);
    expect(textsAt(value, 'tags[5]')).toEqual([]);
    expect(textsAt(value, 'tags[*]')).toEqual(['a', 'b', 'c']);
    expect(textsAt(value, 'doc.parts[*].t')).toEqual(['x', 'y']);
    expect(textsAt(value, 'doc.meta.*')).toEqual(['1']);
    expect(textsAt(value, 'doc.meta')).toEqual([JSON.stringify({ k: 1 }, null, 2)]);
    expect(textsAt(value, 'doc.{meta.k, parts[0].t}')).toEqual(['1', 'x']);
    expect(textsAt(value, 'title[0]')).toEqual([]);
    expect(textsAt(value, 'tags.length')).toEqual([]);
    expect(textsAt(value, '$')).toEqual([JSON.stringify(value, null, 2)]);
  });

  it('refuses malformed paths with INVALID_ARGUMENT', () => {
    for (const path of ['a[', 'a[x]', 'a{b', 'a{b,}']) expect(() => parseFieldPath(path)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
