import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { openStore } from '../src/store.js';
import type { Store } from '../src/store.js';
import type { SessionEvent } from '../src/api/types.js';
import { describeEachEngine, type TestEngine } from './helpers/engines.js';
import { urlOf } from './helpers/postgres.js';
import { createEvent } from '@google/adk';
import { AbathurSessionService } from '../src/adk/index.js';

const others: Store[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((s) => s.close().catch(() => {})));
});

async function second(engine: TestEngine, store: Store): Promise<Store> {
  const other = engine.name === 'sqlite' ? await openStore({ path: store.path, readers: 1 }) : await openStore({ url: urlOf(store) });
  others.push(other);
  return other;
}

/** The promise's value, or a failure after 5 s: a watcher that is never woken fails here, not at the test's timeout. */
function within<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('not woken within 5 s')), 5000)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Takes `n` events from the iterator. */
async function take(events: AsyncIterator<SessionEvent>, n: number): Promise<SessionEvent[]> {
  const got: SessionEvent[] = [];
  while (got.length < n) {
    const next = await events.next();
    if (next.done === true) break;
    got.push(next.value);
  }
  return got;
}

describeEachEngine('sessions.watch', (engine) => {
  it('delivers the events committed after it starts, in order, each once', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    await store.sessions.appendEvent(id, { n: 1 });
    await store.sessions.appendEvent(id, { n: 2 });
    const events = store.sessions.watch(id);
    const first = events.next();
    await sleep(50);
    await store.sessions.appendEvent(id, { n: 3 });
    expect((await first).value).toMatchObject({ seq: 3, event: { n: 3 } });
    await store.sessions.appendEvents(id, [{ event: { n: 4 } }, { event: { n: 5 } }]);
    expect((await take(events, 2)).map((e) => e.seq)).toEqual([4, 5]);
    await events.return?.();
  });

  it('replays from afterSeq and follows concurrent appends with no gap and no duplicate, a page at a time', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    for (let i = 1; i <= 30; i++) await store.sessions.appendEvent(id, { i });
    const events = store.sessions.watch(id, { afterSeq: 10 });
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 60; i++) await store.sessions.appendEvent(id, { w, i });
    });
    const got = await take(events, 20 + 240);
    await Promise.all(writers);
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 260 }, (_, i) => 11 + i));
    // A slow consumer: the watcher has read at most one page past what it delivered.
    const reads = store.stats().latency['sessions.events']?.count ?? 0;
    for (let i = 0; i < 300; i++) await store.sessions.appendEvent(id, { more: i });
    await take(events, 1);
    await sleep(100);
    expect((store.stats().latency['sessions.events']?.count ?? 0) - reads).toBeLessThanOrEqual(1);
    await events.return?.();
  });

  it('follows appends made by another store on the same database (another process)', async () => {
    const store = await engine.open();
    const other = await second(engine, store);
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const events = store.sessions.watch(id);
    const first = events.next();
    await sleep(100);
    await other.sessions.appendEvent(id, { from: 'other' });
    expect((await first).value).toMatchObject({ seq: 1, event: { from: 'other' } });
    await other.sessions.appendEvent(id, { from: 'other', n: 2 });
    expect((await events.next()).value).toMatchObject({ seq: 2 });
    await events.return?.();
  });

  it("hears this store's own ADK appends and deletes, which name the session by its ADK key", async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    const session = await service.createSession({ appName: 'app', userId: 'u', sessionId: 'adk' });
    const { items } = await store.sessions.listByUser('u', { limit: 10 });
    const storeId = items.find((s) => (s.metadata as { adk?: { sessionId?: string } } | null)?.adk?.sessionId === 'adk')!.id;
    const events = store.sessions.watch(storeId);
    const first = events.next();
    await sleep(100);
    await service.appendEvent({ session, event: createEvent({ author: 'agent', invocationId: 'i', id: 'e1', actions: { stateDelta: {} } }) });
    expect((await within(first)).value).toMatchObject({ seq: 1, event: { id: 'e1' } });
    const end = events.next();
    await sleep(100);
    await service.deleteSession({ appName: 'app', userId: 'u', sessionId: 'adk' });
    expect(await within(end)).toEqual({ done: true, value: undefined });
  });

  it('ends when the session is deleted, here or by another store', async () => {
    const store = await engine.open();
    const other = await second(engine, store);
    const a = await store.sessions.create({ appName: 'a', userId: 'u' });
    const b = await store.sessions.create({ appName: 'a', userId: 'u' });
    const watchA = store.sessions.watch(a.id)[Symbol.asyncIterator]();
    const watchB = store.sessions.watch(b.id)[Symbol.asyncIterator]();
    const endA = watchA.next();
    const endB = watchB.next();
    await sleep(100);
    await store.sessions.delete(a.id);
    expect(await endA).toEqual({ done: true, value: undefined });
    await other.sessions.delete(b.id);
    expect(await endB).toEqual({ done: true, value: undefined });
  });

  it('an aborted signal rejects the pending step ABORTED; break releases it; close() rejects CLOSED', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const controller = new AbortController();
    const events = store.sessions.watch(id, { signal: controller.signal });
    const pending = events.next();
    await sleep(50);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });

    let seen = 0;
    const loop = (async () => {
      for await (const event of store.sessions.watch(id)) {
        seen = event.seq;
        break;
      }
    })();
    await sleep(50);
    await store.sessions.appendEvent(id, { n: 1 });
    await loop;
    expect(seen).toBe(1);

    const last = store.sessions.watch(id).next();
    await sleep(50);
    const closing = store.close();
    await expect(last).rejects.toMatchObject({ code: 'CLOSED' });
    await closing;
  });

  it('refuses a missing session and bad options', async () => {
    const store = await engine.open();
    await expect(store.sessions.watch('missing').next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    await expect(store.sessions.watch(id, { afterSeq: -1 }).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.sessions.watch(id, { after: 1 } as never).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.sessions.watch(id, { signal: 'x' } as never).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('ends when its session is deleted and another is created with the same id before it looks again', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const events = store.sessions.watch(id);
    const first = events.next();
    await sleep(50);
    await store.sessions.appendEvent(id, { n: 1 });
    expect((await within(first)).value).toMatchObject({ seq: 1 });
    // The consumer holds the event: the watcher does not look until it asks for the next.
    await store.sessions.delete(id);
    await store.sessions.create({ id, appName: 'a', userId: 'u' });
    await store.sessions.appendEvent(id, { other: 1 });
    await store.sessions.appendEvent(id, { other: 2 });
    expect(await within(events.next())).toEqual({ done: true, value: undefined });
  });
});
