import { createEvent } from '@google/adk';
import Database from 'better-sqlite3';
import { expect, it, vi } from 'vitest';
import { engineOf, openStore, type Store } from '../src/store.js';
import { AbathurSessionService } from '../src/adk/index.js';
import type { EventRowsPage, StoredSession } from '../src/catalogue/session-events.js';
import type { JsonValue } from '../src/api/types.js';
import { describeEachEngine, type TestEngine } from './helpers/engines.js';
import { urlOf } from './helpers/postgres.js';
import { cleanup } from './helpers/temp.js';

// sessions.get and sessions.events keep the events they decoded: a read tells the reader
// which it holds, gets back only the others' texts and decodes those alone; what it hands
// out is frozen. These prove the cache is never stale: trims, deletes, appends and
// replacements by this store or another (another process) and a caller that mutates what
// it got all show in the next read.

/** How many event texts each sessions.get and sessions.events brought back, in call order. */
function countTexts(store: Store): number[] {
  const engine = engineOf(store);
  const read = engine.call.bind(engine);
  const counts: number[] = [];
  vi.spyOn(engine, 'call').mockImplementation(async (operation, build, signal) => {
    const result = await read(operation, build, signal);
    if (operation.name === 'sessions.get' && result !== undefined) counts.push((result as StoredSession).before.length + (result as StoredSession).after.length);
    if (operation.name === 'sessions.events') counts.push((result as EventRowsPage).items.filter((row) => row.event !== null).length);
    return result;
  });
  return counts;
}

/** A second store on the same database, with its own writer: as another process. */
async function elsewhere(engine: TestEngine, store: Store): Promise<Store> {
  const other = engine.name === 'sqlite' ? await openStore({ path: store.path, readers: 1 }) : await openStore({ url: urlOf(store) });
  cleanup(() => other.close());
  return other;
}

async function withEvents(store: Store, id: string, n: number, from = 1): Promise<void> {
  if (from === 1) await store.sessions.create({ id, appName: 'a', userId: 'u' });
  for (let i = from; i < from + n; i++) await store.sessions.appendEvent(id, { n: i, text: `e${i}` });
}

const ns = (events: readonly JsonValue[] | undefined): unknown[] => (events ?? []).map((e) => (e as { n: number }).n);

/** Session s's version: its rowid and creation time. */
async function versionOf(engine: TestEngine, store: Store): Promise<{ rowid: number; createdAt: string }> {
  const [row] = await engine.rows(store, "SELECT rowid, created_at FROM sessions WHERE id = 's'");
  return { rowid: Number(row!.rowid), createdAt: String(row!.created_at) };
}

/**
 * Gives session s, created again under its id, the version it had before its delete: what
 * SQLite gives a session created again within the same millisecond, when the deleted one
 * was the last created (its rowid is reused). Set from outside, as the clock cannot be.
 */
async function sameVersion(engine: TestEngine, store: Store, { rowid, createdAt }: { rowid: number; createdAt: string }): Promise<void> {
  const sql = `UPDATE sessions SET rowid = ${rowid}, created_at = '${createdAt}' WHERE id = 's'`;
  if (engine.name === 'postgres') {
    await engine.rows(store, sql);
    return;
  }
  const db = new Database(store.path);
  try {
    db.pragma('busy_timeout = 5000');
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Holds the answer of the next sessions.get until `release()`; `answered` resolves once the reader answered it. */
function holdNextGet(store: Store): { answered: Promise<void>; release: () => void } {
  const engine = engineOf(store);
  const call = engine.call.bind(engine);
  let answered!: () => void;
  let release!: () => void;
  const answer = new Promise<void>((resolve) => (answered = resolve));
  const hold = new Promise<void>((resolve) => (release = resolve));
  let next = true;
  vi.spyOn(engine, 'call').mockImplementation(async (operation, build, signal) => {
    const held = next && operation.name === 'sessions.get';
    if (held) next = false;
    const result = await call(operation, build, signal);
    if (held) {
      answered();
      await hold;
    }
    return result;
  });
  return { answered: answer, release };
}

describeEachEngine('sessions: decoded events', (engine) => {
  it('reads and decodes only the events it does not hold, and shares the frozen ones it does', async () => {
    const store = await engine.open();
    await withEvents(store, 's', 3);
    const counts = countTexts(store);
    const first = (await store.sessions.get('s', { lastEvents: 200 }))!;
    await store.sessions.appendEvent('s', { n: 4, text: 'e4' });
    const second = (await store.sessions.get('s', { lastEvents: 200 }))!;
    expect(ns(second.events)).toEqual([1, 2, 3, 4]);
    expect(counts).toEqual([3, 1]);
    // The same decoded objects, not a second decoding of the same rows.
    expect(second.events[0]).toBe(first.events[0]);
    expect(Object.isFrozen(second.events[3])).toBe(true);
    // sessions.events finds them too: a page of what get decoded brings back no text.
    const page = await store.sessions.events('s', { afterSeq: 1, limit: 2 });
    expect(page.items.map((item) => [item.seq, item.event])).toEqual([
      [2, first.events[1]],
      [3, first.events[2]],
    ]);
    expect(page.items[0]!.event).toBe(first.events[1]);
    expect(counts).toEqual([3, 1, 0]);
    // And the other way: a page read first, then get, newest first.
    const desc = await store.sessions.events('s', { order: 'desc', limit: 10 });
    expect(desc.items.map((item) => item.seq)).toEqual([4, 3, 2, 1]);
    expect(counts).toEqual([3, 1, 0, 0]);
  });

  it('hands out events no caller can change for the next one', async () => {
    const store = await engine.open();
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    await store.sessions.appendEvent('s', { text: 'hi', parts: [{ text: 'a' }] });
    await store.sessions.appendEvent('s', { text: 'there' });
    const got = (await store.sessions.get('s', { lastEvents: 200 }))!;
    expect(() => {
      ((got.events[0] as { parts: { text: string }[] }).parts[0]!).text = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (got.events[1] as { text: string }).text = 'mallory';
    }).toThrow(TypeError);
    got.events.pop();
    got.events.push({ text: 'local' });
    const page = await store.sessions.events('s');
    expect(() => {
      (page.items[0]!.event as { text: string }).text = 'changed';
    }).toThrow(TypeError);
    // The page's own objects are the caller's: changing one changes nothing stored.
    page.items[0]!.seq = 99;
    page.items.pop();
    const again = (await store.sessions.get('s'))!;
    expect(again.events).toEqual([{ text: 'hi', parts: [{ text: 'a' }] }, { text: 'there' }]);
    expect((await store.sessions.events('s')).items.map((item) => item.seq)).toEqual([1, 2]);
  });

  it('forgets what its own trim and delete removed', async () => {
    const store = await engine.open();
    await withEvents(store, 's', 4);
    expect(ns((await store.sessions.get('s'))!.events)).toEqual([1, 2, 3, 4]);
    await store.sessions.trimEvents('s', { keepLast: 2 });
    const counts = countTexts(store);
    expect(ns((await store.sessions.get('s'))!.events)).toEqual([3, 4]);
    expect(ns((await store.sessions.events('s')).items.map((item) => item.event))).toEqual([3, 4]);
    await store.sessions.appendEvent('s', { n: 5 });
    expect(ns((await store.sessions.get('s', { lastEvents: 2 }))!.events)).toEqual([4, 5]);
    // What the trim kept is still held: only e5 was decoded.
    expect(counts).toEqual([0, 0, 1]);
    await store.sessions.trimEvents('s', { keepLast: 0 });
    expect((await store.sessions.get('s'))!.events).toEqual([]);

    await store.sessions.delete('s');
    expect(await store.sessions.get('s')).toBeUndefined();
    await withEvents(store, 's', 2, 1);
    expect(ns((await store.sessions.get('s'))!.events)).toEqual([1, 2]);
    await store.sessions.delete('s');
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    await store.sessions.appendEvent('s', { n: 'new' });
    expect((await store.sessions.get('s'))!.events).toEqual([{ n: 'new' }]);
  });

  it("sees another store's appends, trims, deletes and ADK replacements (another process)", async () => {
    const store = await engine.open();
    const other = await elsewhere(engine, store);
    await withEvents(store, 's', 3);
    expect(ns((await store.sessions.get('s', { lastEvents: 200 }))!.events)).toEqual([1, 2, 3]);
    await other.sessions.appendEvent('s', { n: 4 });
    const counts = countTexts(store);
    expect(ns((await store.sessions.get('s', { lastEvents: 200 }))!.events)).toEqual([1, 2, 3, 4]);
    expect(counts).toEqual([1]);

    await other.sessions.trimEvents('s', { keepLast: 1 });
    expect(ns((await store.sessions.get('s', { lastEvents: 200 }))!.events)).toEqual([4]);
    expect(ns((await store.sessions.events('s')).items.map((item) => item.event))).toEqual([4]);

    // Deleted and created again under the same id, with as many events as were held:
    // another session (the creation time is part of its version, to the millisecond).
    await other.sessions.delete('s');
    expect(await store.sessions.get('s')).toBeUndefined();
    await withEvents(store, 's', 4);
    expect(ns((await store.sessions.get('s'))!.events)).toEqual([1, 2, 3, 4]);
    await other.sessions.delete('s');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await other.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    for (const n of ['a', 'b', 'c', 'd', 'e']) await other.sessions.appendEvent('s', { n });
    expect(ns((await store.sessions.get('s'))!.events)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ns((await store.sessions.events('s', { limit: 3 })).items.map((item) => item.event))).toEqual(['a', 'b', 'c']);

    // ADK's adapter replaces an event where it stands (the same event id appended again).
    const service = new AbathurSessionService(other);
    const key = { appName: 'a', userId: 'u', sessionId: 'adk' };
    const adk = await service.createSession(key);
    const event = (text: string) => createEvent({ id: 'ev1', author: 'agent', invocationId: 'i', timestamp: 1, content: { parts: [{ text }] } });
    await service.appendEvent({ session: adk, event: event('before') });
    const [row] = await engine.rows(store, "SELECT session_id FROM adk_sessions WHERE id = 'adk'");
    const storeId = String(row!.session_id);
    const text = (events: readonly JsonValue[]) => (events[0] as { content: { parts: { text: string }[] } }).content.parts[0]!.text;
    expect(text((await store.sessions.get(storeId))!.events)).toBe('before');
    await service.appendEvent({ session: (await service.getSession(key))!, event: event('after') });
    expect(text((await store.sessions.get(storeId))!.events)).toBe('after');
    expect(text((await store.sessions.events(storeId)).items.map((item) => item.event))).toBe('after');
  });

  it('reads again, holding nothing, when what a read left out is gone by the time it answers', async () => {
    const store = await engine.open();
    await withEvents(store, 's', 3);
    await store.sessions.get('s');
    const engineCalls = engineOf(store);
    const call = engineCalls.call.bind(engineCalls);
    let trimmed = false;
    const counts: number[] = [];
    vi.spyOn(engineCalls, 'call').mockImplementation(async (operation, build, signal) => {
      const result = await call(operation, build, signal);
      if (operation.name === 'sessions.get' || operation.name === 'sessions.events') {
        counts.push(
          operation.name === 'sessions.get'
            ? (result as StoredSession).before.length + (result as StoredSession).after.length
            : (result as EventRowsPage).items.filter((row) => row.event !== null).length,
        );
        if (!trimmed) {
          // Between the read and its decoding: this store's own trim drops the events it left out.
          trimmed = true;
          await store.sessions.trimEvents('s', { keepLast: 1 });
        }
      }
      return result;
    });
    // The answer read before the trim names events no longer held: a second read, after it.
    expect(ns((await store.sessions.get('s'))!.events)).toEqual([3]);
    expect(counts).toEqual([0, 1]);
    // The same for a page: e3 held, e4 new; the trim between drops e3.
    await store.sessions.appendEvent('s', { n: 4 });
    trimmed = false;
    counts.length = 0;
    const page = await store.sessions.events('s');
    expect(page.items.map((item) => item.event)).toEqual([{ n: 4 }]);
    expect(counts).toEqual([1, 1]);
  });

  it("keeps nothing from a read that was in flight across this store's own delete", async () => {
    const store = await engine.open();
    await withEvents(store, 's', 3);
    const was = await versionOf(engine, store);
    const held = holdNextGet(store);
    // A read answered before the delete and decoded after it: its events are the deleted session's.
    const inFlight = store.sessions.get('s');
    await held.answered;
    await store.sessions.delete('s');
    held.release();
    expect(ns((await inFlight)!.events)).toEqual([1, 2, 3]);
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    await sameVersion(engine, store, was);
    for (const n of ['a', 'b', 'c']) await store.sessions.appendEvent('s', { n });
    expect(ns((await store.sessions.get('s'))!.events)).toEqual(['a', 'b', 'c']);
  });

  it("takes nothing it holds for a read that was in flight across this store's own delete", async () => {
    const store = await engine.open();
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u', state: { of: 'old' } });
    for (let n = 1; n <= 3; n++) await store.sessions.appendEvent('s', { n });
    const was = await versionOf(engine, store);
    await store.sessions.get('s');
    const held = holdNextGet(store);
    // Answered before the delete, holding e1 to e3 of the deleted session; decoded once a
    // session created again with its version has been read, and its events held instead.
    const inFlight = store.sessions.get('s');
    await held.answered;
    await store.sessions.delete('s');
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u', state: { of: 'new' } });
    await sameVersion(engine, store, was);
    for (const n of ['a', 'b', 'c']) await store.sessions.appendEvent('s', { n });
    expect(ns((await store.sessions.get('s'))!.events)).toEqual(['a', 'b', 'c']);
    held.release();
    // One session's state and its own events (here the new one's: the read was made again).
    const got = (await inFlight)!;
    expect([got.state, ns(got.events)]).toEqual([{ of: 'new' }, ['a', 'b', 'c']]);
  });

  it('with decodeCacheBytes 0 decodes every event of every read, as objects of the caller', async () => {
    const store = await engine.open({ decodeCacheBytes: 0 });
    await withEvents(store, 's', 3);
    const counts = countTexts(store);
    const first = (await store.sessions.get('s', { lastEvents: 200 }))!;
    const second = (await store.sessions.get('s', { lastEvents: 200 }))!;
    const page = await store.sessions.events('s');
    expect(counts).toEqual([3, 3, 3]);
    expect(second.events[0]).not.toBe(first.events[0]);
    expect(second.events).toEqual(first.events);
    expect(Object.isFrozen(second.events[0])).toBe(false);
    expect(Object.isFrozen(page.items[0]!.event)).toBe(false);
    (first.events[0] as { n: number }).n = 100;
    expect(ns((await store.sessions.get('s'))!.events)).toEqual([1, 2, 3]);
  });
});
