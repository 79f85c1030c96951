import { createEvent, createSession, InMemoryMemoryService, type Event, type Session } from '@google/adk';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { AbathurMemoryService } from '../src/adk/index.js';
import { memoryNamespace } from '../src/adk/memory-service.js';
import { describeEachEngine } from './helpers/engines.js';

const RUNS = Number(process.env.ABATHUR_FUZZ_RUNS ?? 40);

const said = (id: string, text: string, author = 'user', timestamp = 1_700_000_000_000): Event =>
  createEvent({ id, author, timestamp, content: { role: author === 'user' ? 'user' : 'model', parts: [{ text }] } });

const session = (id: string, events: Event[], userId = 'alice', appName = 'notes'): Session =>
  createSession({ id, appName, userId, events, lastUpdateTime: 1 });

const texts = (memories: { content: { parts?: { text?: string }[] } }[]) => memories.map((m) => m.content.parts?.[0]?.text);

describeEachEngine('AbathurMemoryService', (engine) => {
  it('finds events by any of the query’s words, best match first, as ADK memory entries', async () => {
    const memory = new AbathurMemoryService(await engine.open());
    await memory.addSessionToMemory(
      session('s1', [
        said('e1', 'The weather in Paris is sunny', 'user', Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
        said('e2', 'Lyon has rain, rain and more rain today', 'agent'),
        said('e3', 'Nothing about cities here'),
        createEvent({ id: 'e4', author: 'agent', content: { role: 'model', parts: [{ functionCall: { name: 'weather', args: {} } }] } }),
      ]),
    );
    const { memories } = await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'rain Paris' });
    // BM25: three occurrences of "rain" in one event outrank one of "Paris".
    expect(texts(memories)).toEqual(['Lyon has rain, rain and more rain today', 'The weather in Paris is sunny']);
    expect(memories[1]).toEqual({
      content: { role: 'user', parts: [{ text: 'The weather in Paris is sunny' }] },
      author: 'user',
      timestamp: '2026-01-02T03:04:05.006Z',
    });
    expect((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'cities' })).memories).toHaveLength(1);
    expect((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'berlin' })).memories).toEqual([]);
    expect((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: '  ?! ' })).memories).toEqual([]);
  });

  it('keeps each user’s memory, of each app, to itself', async () => {
    const memory = new AbathurMemoryService(await engine.open());
    await memory.addSessionToMemory(session('s', [said('e', 'secret plans')], 'alice'));
    await memory.addSessionToMemory(session('s', [said('e', 'public plans')], 'bob'));
    await memory.addSessionToMemory(session('s', [said('e', 'other plans')], 'alice', 'other'));
    // ':' in ids does not let one scope reach into another.
    await memory.addSessionToMemory(session('s', [said('e', 'colon plans')], 'ali:ce', 'notes'));
    const search = async (appName: string, userId: string) => texts((await memory.searchMemory({ appName, userId, query: 'plans' })).memories);
    expect(await search('notes', 'alice')).toEqual(['secret plans']);
    expect(await search('notes', 'bob')).toEqual(['public plans']);
    expect(await search('other', 'alice')).toEqual(['other plans']);
    expect(await search('notes', 'ali:ce')).toEqual(['colon plans']);
    expect(await search('notes', 'carol')).toEqual([]);
  });

  it('replaces what a session added before when it is added again: new, changed and removed events', async () => {
    const store = await engine.open();
    const memory = new AbathurMemoryService(store);
    const search = async (query: string) => texts((await memory.searchMemory({ appName: 'notes', userId: 'alice', query })).memories);
    await memory.addSessionToMemory(session('s1', [said('e1', 'alpha'), said('e2', 'beta'), said('e3', 'gamma')]));
    await memory.addSessionToMemory(session('s2', [said('e1', 'alpha too')]));
    await memory.addSessionToMemory(session('s1', [said('e1', 'alpha'), said('e2', 'beta changed'), said('e4', 'delta')]));
    expect(await search('alpha')).toEqual(expect.arrayContaining(['alpha', 'alpha too']));
    expect(await search('alpha')).toHaveLength(2);
    expect(await search('beta')).toEqual(['beta changed']);
    expect(await search('gamma')).toEqual([]);
    expect(await search('delta')).toEqual(['delta']);
    // Memory entries of the store: unchanged e1 kept version 1, e2 got version 2, e3 is deleted.
    const ns = memoryNamespace('notes', 'alice');
    expect((await store.memory.get(ns, 's1/e1'))?.version).toBe(1);
    expect((await store.memory.get(ns, 's1/e2'))?.version).toBe(2);
    expect(await store.memory.get(ns, 's1/e3')).toBeUndefined();
    expect((await store.memory.get(ns, 's1/e4'))?.type).toBe('episodic');
    const { items } = await store.audit.list({ namespacePrefix: ns, limit: 10 });
    expect(items[0]?.actionData).toEqual({ added: 1, changed: 1, removed: 1 });
  });

  it('matches words as FTS5 splits them: case, accents and punctuation aside (InMemory would not)', async () => {
    const memory = new AbathurMemoryService(await engine.open());
    const inMemory = new InMemoryMemoryService();
    const s = session('s', [said('e1', 'Un café à Paris'), said('e2', "What's the weather?"), said('e3', 'room 42'), said('e4', 'Herr Müller')]);
    await memory.addSessionToMemory(s);
    await inMemory.addSessionToMemory(s);
    const both = async (query: string) => [
      texts((await memory.searchMemory({ appName: 'notes', userId: 'alice', query })).memories),
      texts((await inMemory.searchMemory({ appName: 'notes', userId: 'alice', query })).memories),
    ];
    expect(await both('CAFE')).toEqual([['Un café à Paris'], []]);
    expect(await both('weather?')).toEqual([["What's the weather?"], []]);
    expect(await both('42')).toEqual([['room 42'], []]);
    // A diacritic inside a word, not only at its end.
    expect(await both('MULLER')).toEqual([['Herr Müller'], []]);
    expect(await both('paris')).toEqual([['Un café à Paris'], ['Un café à Paris']]);
    // A query's quotes and FTS operators are words, not syntax (InMemory keeps the quotes).
    expect(await both('"paris" OR NEAR(')).toEqual([['Un café à Paris'], []]);
  });

  it('keeps one version of each event when the same session is added from several callers at once', async () => {
    const store = await engine.open();
    const memory = new AbathurMemoryService(store);
    const events = Array.from({ length: 5 }, (_, i) => said(`e${i}`, `word${i} shared`));
    // Connections (PostgreSQL's pool) open first, so that the adds do run at once.
    await Promise.all(Array.from({ length: 8 }, () => store.sessions.get('none')));
    await Promise.all(Array.from({ length: 8 }, () => memory.addSessionToMemory(session('s', events))));
    const ns = memoryNamespace('notes', 'alice');
    for (let i = 0; i < 5; i++) expect((await store.memory.history(ns, `s/e${i}`)).items.map((e) => e.version)).toEqual([1]);
    expect(texts((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'shared' })).memories)).toHaveLength(5);
    const adds = (await store.audit.list({ namespacePrefix: ns, limit: 20 })).items.map((e) => e.actionData as { added: number });
    expect(adds.map((a) => a.added).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 5]);
  });

  it('returns at most `limit` memories, and leaves out memory entries deleted by the store', async () => {
    const store = await engine.open();
    const memory = new AbathurMemoryService(store, { limit: 3 });
    await memory.addSessionToMemory(session('s', Array.from({ length: 10 }, (_, i) => said(`e${i}`, `note number ${i}`))));
    expect((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'note' })).memories).toHaveLength(3);
    await store.memory.expireEpisodic(Date.now() + 60_000);
    expect((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'note' })).memories).toEqual([]);
    expect(() => new AbathurMemoryService(store, { limit: 0 })).toThrow(/limit must be an integer from 1 to 1000/);
    await expect(memory.searchMemory({ appName: '', userId: 'alice', query: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(memory.addSessionToMemory({ ...session('s', []), events: 'none' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a session whose text together is over maxPayloadBytes, and keeps what it had', async () => {
    const memory = new AbathurMemoryService(await engine.open({ maxPayloadBytes: 4096 }));
    await memory.addSessionToMemory(session('s', [said('e0', 'kept words')]));
    const long = Array.from({ length: 4 }, (_, i) => said(`e${i}`, `words ${'y'.repeat(1500)}`));
    await expect(memory.addSessionToMemory(session('s', long))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('maxPayloadBytes'),
    });
    expect(texts((await memory.searchMemory({ appName: 'notes', userId: 'alice', query: 'words' })).memories)).toEqual(['kept words']);
  });

  it('finds the same memories as ADK’s InMemoryMemoryService for words of ASCII letters (order aside)', async () => {
    // InMemoryMemoryService matches a query word to an event's [A-Za-z]+ words, unranked,
    // in session order; here FTS5 ranks by BM25. On words of letters the sets must agree.
    const words = fc.constantFrom('paris', 'Lyon', 'rain', 'sun', 'WEATHER', 'tea', 'notes');
    const text = fc.array(words, { minLength: 0, maxLength: 5 }).map((w) => w.join(' '));
    const sessionArb = fc.record({
      user: fc.constantFrom('alice', 'bob'),
      id: fc.constantFrom('s1', 's2', 's3'),
      events: fc.array(fc.record({ id: fc.constantFrom('e1', 'e2', 'e3', 'e4'), text }), { maxLength: 5 }),
    });
    const query = fc.array(words, { minLength: 1, maxLength: 3 }).map((w) => w.join(' '));
    // As JSON with keys in one order: PostgreSQL's jsonb keeps values, not key order.
    const canonical = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(canonical)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]))
          : value;
    const sorted = (memories: unknown[]) => memories.map((m) => JSON.stringify(canonical(m))).sort();
    await fc.assert(
      fc.asyncProperty(fc.array(sessionArb, { minLength: 1, maxLength: 6 }), query, fc.constantFrom('alice', 'bob'), async (added, q, user) => {
        const store = await engine.open();
        const ours = new AbathurMemoryService(store, { limit: 1000 });
        const theirs = new InMemoryMemoryService();
        for (const a of added) {
          // Event ids are unique within a session, as ADK makes them.
          const events = [...new Map(a.events.map((e) => [e.id, e])).values()].map((e, i) => said(e.id, e.text, 'user', 1000 + i));
          const s = session(a.id, events, a.user);
          await ours.addSessionToMemory(s);
          await theirs.addSessionToMemory(s);
        }
        const request = { appName: 'notes', userId: user, query: q };
        const [a, b] = [(await ours.searchMemory(request)).memories, (await theirs.searchMemory(request)).memories];
        expect(sorted(a)).toEqual(sorted(JSON.parse(JSON.stringify(b)) as unknown[]));
        await store.close();
      }),
      { numRuns: RUNS },
    );
  });
});
