import { createEvent, type Event } from '@google/adk';
import { expect, it, vi } from 'vitest';
import { engineOf, openStore, type Store } from '../src/store.js';
import { AbathurSessionService } from '../src/adk/index.js';
import type { AdkSessionRecord } from '../src/catalogue/adk.js';
import { describeEachEngine } from './helpers/engines.js';
import { openTestStore } from './helpers/store.js';

// getSession keeps the histories it decoded: a session read again brings back and decodes
// only the events appended since, and what it hands out is frozen. These prove the cache
// is never stale: appends by another service (another process), trims, deletes,
// replacements and a caller that mutates what it got all show in the next read.

const key = { appName: 'a', userId: 'u', sessionId: 's' };

function event(id: string, text = id): Event {
  return createEvent({ id, author: 'agent', invocationId: 'inv', timestamp: Date.now(), content: { role: 'model', parts: [{ text }] } });
}

/** The number of events each `adk.sessions.get` brought back, in call order. */
function countReads(store: Store): number[] {
  const engine = engineOf(store);
  const read = engine.call.bind(engine);
  const counts: number[] = [];
  vi.spyOn(engine, 'call').mockImplementation(async (operation, build, signal) => {
    const result = await read(operation, build, signal);
    if (operation.name === 'adk.sessions.get' && result !== undefined) counts.push((result as AdkSessionRecord).events.length);
    return result;
  });
  return counts;
}

const texts = (events: readonly Event[] | undefined): unknown[] => (events ?? []).map((e) => e.content?.parts?.[0]?.text);

async function withEvents(service: AbathurSessionService, n: number): Promise<void> {
  const session = await service.createSession(key);
  for (let i = 1; i <= n; i++) await service.appendEvent({ session, event: event(`e${i}`) });
}

describeEachEngine('AbathurSessionService: decoded histories', (engine) => {
  it('reads and decodes only the events appended since the last read, and shares the frozen ones it holds', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    await withEvents(service, 3);
    const counts = countReads(store);
    const first = (await service.getSession(key))!;
    const other = new AbathurSessionService(store);
    await other.appendEvent({ session: (await other.getSession(key))!, event: event('e4') });
    counts.length = 0;
    const second = (await service.getSession(key))!;
    expect(counts).toEqual([1]);
    expect(texts(second.events)).toEqual(['e1', 'e2', 'e3', 'e4']);
    // The same decoded objects, not a second decoding of the same rows.
    expect(second.events[0]).toBe(first.events[0]);
    expect(Object.isFrozen(second.events[0]!.content!.parts![0])).toBe(true);
    // A read with a window is not served from the cache.
    expect(texts((await service.getSession({ ...key, config: { numRecentEvents: 2 } }))!.events)).toEqual(['e3', 'e4']);
  });

  it('hands out events no caller can change for the next one', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    await withEvents(service, 2);
    const got = (await service.getSession(key))!;
    expect(() => {
      (got.events[0]!.content!.parts![0] as { text: string }).text = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (got.events[1] as { author: string }).author = 'mallory';
    }).toThrow(TypeError);
    got.events.pop();
    got.events.push(event('local'));
    const again = (await service.getSession(key))!;
    expect(texts(again.events)).toEqual(['e1', 'e2']);
    expect(again.events[1]!.author).toBe('agent');
  });

  it('reads again what a trim, a replacement or a delete changed', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    await withEvents(service, 4);
    expect(texts((await service.getSession(key))!.events)).toEqual(['e1', 'e2', 'e3', 'e4']);
    const rows = await engine.rows(store, "SELECT session_id FROM adk_sessions WHERE id = 's'");
    await store.sessions.trimEvents(String(rows[0]!.session_id), { keepLast: 2 });
    expect(texts((await service.getSession(key))!.events)).toEqual(['e3', 'e4']);

    // Another service replaces e4 (the same id appended again): this one sees the new text.
    const other = new AbathurSessionService(store);
    await other.appendEvent({ session: (await other.getSession(key))!, event: event('e4', 'e4 again') });
    expect(texts((await service.getSession(key))!.events)).toEqual(['e3', 'e4 again']);

    await other.deleteSession(key);
    expect(await service.getSession(key)).toBeUndefined();
    await other.createSession(key);
    expect((await service.getSession(key))!.events).toEqual([]);
    const fresh = (await other.getSession(key))!;
    await other.appendEvent({ session: fresh, event: event('n1') });
    expect(texts((await service.getSession(key))!.events)).toEqual(['n1']);
  });

  it('does not take a recreated session of the same id for the one it decoded, unread in between', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    await withEvents(service, 1);
    expect(texts((await service.getSession(key))!.events)).toEqual(['e1']);
    const other = new AbathurSessionService(store);
    await other.deleteSession(key);
    const again = await other.createSession(key);
    await other.appendEvent({ session: again, event: event('n1') });
    await other.appendEvent({ session: again, event: event('n2') });
    // Same length past the seq this service holds, same counters: only its store id differs.
    expect(texts((await service.getSession(key))!.events)).toEqual(['n1', 'n2']);
  });

  it('gives reads of one session in flight together each the whole history, once', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    await withEvents(service, 2);
    await service.getSession(key);
    const other = new AbathurSessionService(store);
    await other.appendEvent({ session: (await other.getSession(key))!, event: event('e3') });
    // Both start from the same cached history and both bring back e3.
    const [a, b] = await Promise.all([service.getSession(key), service.getSession(key)]);
    expect(texts(a!.events)).toEqual(['e1', 'e2', 'e3']);
    expect(texts(b!.events)).toEqual(['e1', 'e2', 'e3']);
    await other.appendEvent({ session: (await other.getSession(key))!, event: event('e4') });
    expect(texts((await service.getSession(key))!.events)).toEqual(['e1', 'e2', 'e3', 'e4']);
  });

  it('appends again an event it handed out, frozen: into another session, and to its own (a replacement), as InMemory does', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    const session = await service.createSession(key);
    await service.appendEvent({ session, event: createEvent({ ...event('e1'), actions: { stateDelta: { k: 1, 'temp:t': 2 } } }) });
    const read = (await service.getSession(key))!;
    const stale = (await service.getSession(key))!;
    const handedOut = read.events[0]!;
    expect(Object.isFrozen(handedOut.actions)).toBe(true);

    // Copied into another session: stored there, and the object gains the event and its delta.
    const target = await service.createSession({ ...key, sessionId: 'copy' });
    const copied = await service.appendEvent({ session: target, event: handedOut });
    expect(copied).toMatchObject({ id: 'e1', actions: { stateDelta: { k: 1 } } });
    expect(target.events).toEqual([copied]);
    expect(target.state).toEqual({ k: 1 });
    expect(texts((await service.getSession({ ...key, sessionId: 'copy' }))!.events)).toEqual(['e1']);

    // Sent again to its own session: it replaces itself, the object keeps one e1 and stays current.
    await service.appendEvent({ session: read, event: handedOut });
    expect(read.events.map((e) => e.id)).toEqual(['e1']);
    await service.appendEvent({ session: read, event: event('e2') });
    expect(texts(read.events)).toEqual(['e1', 'e2']);
    expect(texts((await service.getSession(key))!.events)).toEqual(['e1', 'e2']);

    // Sent again from a stale object ('reload'): appended, and the object catches up.
    const resent = await service.appendEvent({ session: stale, event: stale.events[0]! });
    expect(stale.events).toEqual([resent, expect.objectContaining({ id: 'e2' })]);
    expect(stale.state).toEqual({ k: 1 });
  });

  it('with decodeCacheBytes 0 reads the whole history each time, as mutable objects', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store, { decodeCacheBytes: 0 });
    await withEvents(service, 3);
    const counts = countReads(store);
    const first = (await service.getSession(key))!;
    const second = (await service.getSession(key))!;
    expect(counts).toEqual([3, 3]);
    expect(second.events[0]).not.toBe(first.events[0]);
    expect(Object.isFrozen(second.events[0])).toBe(false);
  });
});

it('sees an append made through a second store on the same file (its own writer, as another process)', async () => {
  const store = await openTestStore();
  const elsewhere = await openStore({ path: store.path, readers: 1 });
  try {
    const service = new AbathurSessionService(store);
    const remote = new AbathurSessionService(elsewhere);
    await withEvents(service, 2);
    expect(texts((await service.getSession(key))!.events)).toEqual(['e1', 'e2']);
    await remote.appendEvent({ session: (await remote.getSession(key))!, event: event('e3') });
    expect(texts((await service.getSession(key))!.events)).toEqual(['e1', 'e2', 'e3']);
  } finally {
    await elsewhere.close();
  }
});
