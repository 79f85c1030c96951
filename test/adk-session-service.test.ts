import { createEvent, createSession, InMemorySessionService, type Event, type Session } from '@google/adk';
import { expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import type { Store } from '../src/store.js';
import { AbathurSessionService } from '../src/adk/index.js';
import { describeEachEngine } from './helpers/engines.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const key = (session: Session) => ({ appName: session.appName, userId: session.userId, sessionId: session.id });
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function event(fields: Partial<Event> & { delta?: Record<string, unknown> } = {}): Event {
  const { delta, ...rest } = fields;
  return createEvent({ author: 'agent', invocationId: 'inv', ...rest, actions: { stateDelta: delta ?? {} } });
}

/** The store's own session row behind an ADK session. */
async function storeSession(store: Store, session: Session) {
  const { items } = await store.sessions.listByUser(session.userId, { limit: 1000 });
  const row = items.find((s) => s.appName === session.appName && (s.metadata as { adk?: { sessionId?: string } } | null)?.adk?.sessionId === session.id);
  if (row === undefined) throw new Error(`no store session for ${session.id}`);
  return row;
}

describeEachEngine('AbathurSessionService: sessions and state scopes', (engine) => {
  it('keeps app: and user: keys of the initial state in their scopes and drops temp: keys', async () => {
    const service = new AbathurSessionService(await engine.open());
    const first = await service.createSession({
      appName: 'planner',
      userId: 'alice',
      sessionId: 'one',
      state: { goal: 'ship', 'app:model': 'gemini', 'user:home': 'Paris', 'temp:scratch': 1 },
    });
    expect(first.state).toEqual({ goal: 'ship', 'app:model': 'gemini', 'user:home': 'Paris' });
    const sameUser = await service.createSession({ appName: 'planner', userId: 'alice', sessionId: 'two' });
    const otherUser = await service.createSession({ appName: 'planner', userId: 'bob', sessionId: 'one' });
    const otherApp = await service.createSession({ appName: 'coder', userId: 'alice', sessionId: 'one' });
    expect(sameUser.state).toEqual({ 'app:model': 'gemini', 'user:home': 'Paris' });
    expect(otherUser.state).toEqual({ 'app:model': 'gemini' });
    expect(otherApp.state).toEqual({});
    expect((await service.getSession(key(first)))?.state).toEqual(first.state);

    // D8, the documented difference: InMemorySessionService keeps them in the one session.
    const memory = new InMemorySessionService();
    await memory.createSession({ appName: 'planner', userId: 'alice', sessionId: 'one', state: { 'app:model': 'gemini' } });
    expect((await memory.createSession({ appName: 'planner', userId: 'alice', sessionId: 'two' })).state).toEqual({});
  });

  it('generates a UUID v4 id when none (or an empty one) is given, as ADK does', async () => {
    const service = new AbathurSessionService(await engine.open());
    const generated = await service.createSession({ appName: 'a', userId: 'u' });
    const fromEmpty = await service.createSession({ appName: 'a', userId: 'u', sessionId: '' });
    expect(generated.id).toMatch(UUID_V4);
    expect(fromEmpty.id).toMatch(UUID_V4);
    expect(fromEmpty.id).not.toBe(generated.id);
    expect(json(await service.getSession(key(generated)))).toEqual(json(generated));
    // D9: InMemorySessionService generates UUID v4 ids too (not comparable by value).
    expect((await new InMemorySessionService().createSession({ appName: 'a', userId: 'u' })).id).toMatch(UUID_V4);
  });

  it('rejects a duplicate id of the same app and user with CONFLICT and DatabaseSessionService’s message', async () => {
    const service = new AbathurSessionService(await engine.open());
    const original = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's', state: { kept: true } });
    await service.appendEvent({ session: original, event: event({ id: 'e1', timestamp: 5 }) });
    const error = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's', state: { kept: false } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'CONFLICT', message: 'Session with id s already exists.' });
    const stored = await service.getSession(key(original));
    expect(stored?.state).toEqual({ kept: true });
    expect(stored?.events.map((e) => e.id)).toEqual(['e1']);
    // The same id under another user or app is another session.
    await expect(service.createSession({ appName: 'a', userId: 'v', sessionId: 's' })).resolves.toMatchObject({ id: 's', userId: 'v' });
    await expect(service.createSession({ appName: 'b', userId: 'u', sessionId: 's' })).resolves.toMatchObject({ id: 's', appName: 'b' });
    expect(await service.getSession({ appName: 'a', userId: 'w', sessionId: 's' })).toBeUndefined();
  });

  it('refuses bad input with INVALID_ARGUMENT and stores nothing', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    const bad: unknown[] = [
      { appName: '', userId: 'u' },
      { appName: 'a', userId: '' },
      { appName: 'a', userId: 'u', sessionId: 'x\u0000y' },
      { appName: 'a', userId: 'u', state: [1, 2] },
      { appName: 'a', userId: 'u', state: { big: 10n } },
      { appName: 'a', userId: 'u', state: { when: new Date() } },
      undefined,
    ];
    for (const request of bad) {
      await expect(service.createSession(request as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect((await service.listSessions({ appName: 'a' })).totalItems).toBe(0);
    expect(() => new AbathurSessionService({} as Store)).toThrow(/store from openStore/);
    expect(() => new AbathurSessionService(store, { onStale: 'ignore' as never })).toThrow(/onStale must be one of reload, reject/);
    expect(() => new AbathurSessionService(store, { onstale: 'reject' } as never)).toThrow(/misspelled option "onstale"/);
  });
});

describeEachEngine('AbathurSessionService: appendEvent', (engine) => {
  it('stores the event and applies the delta to the three scopes and to the live session, temp: keys aside', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's', state: { n: 0 } });
    const sibling = await service.createSession({ appName: 'a', userId: 'u', sessionId: 'sibling' });
    session.state['temp:during'] = 'invocation'; // as a tool's context.state.set('temp:during') does
    const e = event({
      id: 'e1',
      timestamp: 1234,
      content: { role: 'model', parts: [{ text: 'hi' }] },
      delta: { n: 1, flag: false, nothing: null, nested: { deep: [true, { x: 1.5 }] }, 'app:calls': 1, 'user:home': 'Paris', 'temp:t': 'x' },
    });
    expect(await service.appendEvent({ session, event: e })).toBe(e);
    // The caller's event loses its temp: keys, as ADK's base service does it.
    expect(Object.getPrototypeOf(e.actions.stateDelta)).toBeNull();
    expect(Object.keys(e.actions.stateDelta)).not.toContain('temp:t');
    const expected = { n: 1, flag: false, nothing: null, nested: { deep: [true, { x: 1.5 }] }, 'app:calls': 1, 'user:home': 'Paris' };
    expect(session.state).toEqual({ ...expected, 'temp:during': 'invocation' });
    expect(session.events).toEqual([e]);
    expect(session.lastUpdateTime).toBe(1234);
    const stored = await service.getSession(key(session));
    expect(stored?.state).toEqual(expected);
    expect(stored?.lastUpdateTime).toBe(1234);
    expect(json(stored?.events)).toEqual(json([e]));
    expect(stored?.events[0]?.actions.stateDelta).not.toHaveProperty('temp:t');
    // Stored events come back marked as createEvent marks events (ADK's isEvent checks it).
    const made = createEvent({}) as unknown as Record<symbol, unknown>;
    const marks = Object.getOwnPropertySymbols(made);
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) expect((stored?.events[0] as unknown as Record<symbol, unknown>)[mark]).toBe(made[mark]);
    // The app: and user: keys reach the other sessions of the user; the session's own do not.
    expect((await service.getSession(key(sibling)))?.state).toEqual({ 'app:calls': 1, 'user:home': 'Paris' });
  });

  it('replaces an event appended again with the same id where it stands and applies its delta again', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await service.appendEvent({ session, event: event({ id: 'e1', timestamp: 100, delta: { k: 1 } }) });
    await service.appendEvent({ session, event: event({ id: 'e2', timestamp: 200, delta: { k: 2 } }) });
    const again = event({ id: 'e1', timestamp: 150, content: { parts: [{ text: 'edited' }] }, delta: { k: 1 } });
    await service.appendEvent({ session, event: again });
    // And a retry of the very same event (after OUTCOME_UNKNOWN, say) stores it once.
    await service.appendEvent({ session, event: again });
    const stored = await service.getSession(key(session));
    expect(stored?.events.map((e) => [e.id, e.timestamp])).toEqual([['e1', 150], ['e2', 200]]);
    expect(stored?.events[0]?.content?.parts?.[0]?.text).toBe('edited');
    expect(stored?.state).toEqual({ k: 1 });
    // lastUpdateTime is the last appended event's timestamp, even when it goes back.
    expect(stored?.lastUpdateTime).toBe(150);
    expect(json(session)).toEqual(json(stored));
  });

  it('does not append again an event trimmed from the log: its id still names it, and its delta applies again', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await service.appendEvent({ session, event: event({ id: 'e1', timestamp: 100, delta: { k: 1 } }) });
    await service.appendEvent({ session, event: event({ id: 'e2', timestamp: 200, delta: { k: 2 } }) });
    const { id: storeId } = await storeSession(store, session);
    await store.sessions.trimEvents(storeId, { keepLast: 1 });
    const reader = (await service.getSession(key(session)))!;
    // e1 sent again (a retry after OUTCOME_UNKNOWN, say): as a replacement of an event no longer kept.
    await service.appendEvent({ session: reader, event: event({ id: 'e1', timestamp: 300, delta: { k: 1 } }) });
    const stored = await service.getSession(key(session));
    expect(stored?.events.map((e) => e.id)).toEqual(['e2']);
    expect(stored?.state).toEqual({ k: 1 });
    expect(await store.sessions.get(storeId)).toMatchObject({ eventCount: 2 });
    await service.appendEvent({ session: reader, event: event({ id: 'e3', timestamp: 400 }) });
    expect((await store.sessions.events(storeId)).items.map((e) => [e.seq, e.eventId])).toEqual([
      [2, 'e2'],
      [3, 'e3'],
    ]);
  });

  it('does not store a partial event, nor let it change anything', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    const before = json(await service.getSession(key(session)));
    const partial = event({ id: 'p', timestamp: 99_999, partial: true, delta: { 'app:x': 1, k: 1 } });
    expect(await service.appendEvent({ session, event: partial })).toBe(partial);
    expect(json(await service.getSession(key(session)))).toEqual(before);
    expect(session.events).toEqual([]);
    expect(session.lastUpdateTime).not.toBe(99_999);
  });

  it('rejects NOT_FOUND for a session that is not stored, and leaves the caller’s object alone', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await service.deleteSession(key(session));
    const before = json(session);
    await expect(service.appendEvent({ session, event: event({ id: 'e', timestamp: 1 }) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(json(session)).toEqual(before);
    const made = createSession({ id: 'never', appName: 'a', userId: 'u' });
    await expect(service.appendEvent({ session: made, event: event({ id: 'e', timestamp: 1 }) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses events without an id or a timestamp, or that JSON cannot hold', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    const noId = { ...event({ timestamp: 1 }), id: '' };
    const noTime = { ...event({ id: 'x' }), timestamp: Number.NaN };
    const notJson = event({ id: 'y', timestamp: 1, delta: { when: new Date(0) } });
    for (const e of [noId, noTime, notJson]) {
      await expect(service.appendEvent({ session, event: e })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(service.appendEvent({ session: null as never, event: event({ id: 'z', timestamp: 1 }) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    for (const request of [undefined, null]) await expect(service.appendEvent(request as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await service.getSession(key(session)))?.events).toEqual([]);
    expect(session.events).toEqual([]);
  });

  it('writes the event, the session and its audit row as a store session whose lifecycle it respects', async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store);
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's', state: { k: 1 } });
    await service.appendEvent({ session, event: event({ id: 'e1', timestamp: 1, delta: { k: 2, 'app:x': 1 } }) });
    const row = await storeSession(store, session);
    expect(row).toMatchObject({ appName: 'a', userId: 'u', status: 'created', state: { k: 2 }, eventCount: 1 });
    // Its events are the store's event log: store.sessions reads them too.
    expect((await store.sessions.get(row.id))?.events).toMatchObject([{ id: 'e1', timestamp: 1, actions: { stateDelta: { k: 2, 'app:x': 1 } } }]);
    const { items } = await store.audit.list({ limit: 10 });
    expect(items.map((a) => a.actionType)).toEqual(['adk_append_event', 'adk_session_create']);
    expect(items[0]?.actionData).toMatchObject({ sessionId: row.id, eventId: 'e1', seq: 1, replaced: false });
    await store.sessions.setStatus(row.id, 'terminated');
    await expect(service.appendEvent({ session, event: event({ id: 'e2', timestamp: 2, delta: { 'app:x': 2 } }) })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    // Nothing of the refused append landed: not the event, not the app: key.
    const stored = await service.getSession(key(session));
    expect(stored?.events.map((e) => e.id)).toEqual(['e1']);
    expect(stored?.state['app:x']).toBe(1);
  });
});

describeEachEngine('AbathurSessionService: the store’s payload limits', (engine) => {
  it('refuses an event over maxPayloadBytes, and a delta that would grow a scope past maxStateBytes, writing nothing', async () => {
    const store = await engine.open({ maxPayloadBytes: 8192, maxStateBytes: 4096 });
    const service = new AbathurSessionService(store);
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    const [large, medium] = ['x'.repeat(2500), 'y'.repeat(2000)];
    await expect(
      service.appendEvent({ session, event: event({ id: 'e1', timestamp: 1, content: { parts: [{ text: large.repeat(4) }] } }) }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('maxPayloadBytes') });
    await service.appendEvent({ session, event: event({ id: 'e2', timestamp: 2, delta: { a: large } }) });
    for (const delta of [{ b: medium }, { 'app:b': large, 'app:c': medium }, { 'user:b': large, 'user:c': medium }]) {
      await expect(service.appendEvent({ session, event: event({ id: 'e3', timestamp: 3, delta }) })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('maxStateBytes'),
      });
    }
    await expect(service.createSession({ appName: 'a', userId: 'u', state: { a: large, b: medium } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('maxStateBytes'),
    });
    const stored = await service.getSession(key(session));
    expect(stored?.events.map((e) => e.id)).toEqual(['e2']);
    expect(Object.keys(stored?.state ?? {})).toEqual(['a']);
    expect((await service.listSessions({ appName: 'a' })).totalItems).toBe(1);
  });
});

describeEachEngine('AbathurSessionService: getSession, listSessions, deleteSession', (engine) => {
  async function withEvents(service: AbathurSessionService, times: number[]): Promise<Session> {
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    for (const [i, timestamp] of times.entries()) await service.appendEvent({ session, event: event({ id: `e${i}`, timestamp }) });
    return session;
  }

  it('filters events as InMemorySessionService does: newest n, then the trailing run at or after a time', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await withEvents(service, [10, 30, 20, 40, 50]);
    const ids = async (config: object) => (await service.getSession({ ...key(session), config }))?.events.map((e) => e.id);
    expect(await ids({ numRecentEvents: 2 })).toEqual(['e3', 'e4']);
    expect(await ids({ numRecentEvents: 0 })).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(await ids({ numRecentEvents: 9 })).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    // Scanning back from the newest, it stops at the first event older than the time
    // (20 < 25), so an older event before it stays out even if its own time is later (30).
    expect(await ids({ afterTimestamp: 25 })).toEqual(['e3', 'e4']);
    // At the time counts as after it; 10 < 20 stops the scan.
    expect(await ids({ afterTimestamp: 20 })).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(await ids({ afterTimestamp: 0 })).toHaveLength(5);
    expect(await ids({ numRecentEvents: 1, afterTimestamp: 20 })).toEqual(['e4']);
    // D4
    // 0 is accepted (all events), so the message says the range starts there.
    await expect(service.getSession({ ...key(session), config: { numRecentEvents: -1 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('config.numRecentEvents must be an integer from 0 to'),
    });
    await expect(service.getSession({ ...key(session), config: { numRecentEvents: 1.5 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await service.getSession({ appName: 'a', userId: 'u', sessionId: 'none' })).toBeUndefined();
  });

  it('lists with ADK’s pagination and orders ties by id with localeCompare in both directions', async () => {
    const service = new AbathurSessionService(await engine.open());
    // Binary order would put 'B' before 'a' and 'Z' before 'b'.
    for (const id of ['b', 'Z', 'a', 'B']) {
      const session = await service.createSession({ appName: 'app', userId: 'u', sessionId: id });
      await service.appendEvent({ session, event: event({ id: 'e', timestamp: 1000 }) });
    }
    const newest = await service.createSession({ appName: 'app', userId: 'v', sessionId: 'c' });
    await service.appendEvent({ session: newest, event: event({ id: 'e', timestamp: 2000 }) });
    const ids = async (request: object) => (await service.listSessions({ appName: 'app', ...request })).sessions.map((s) => s.id);
    expect(await ids({ userId: 'u', order: 'asc' })).toEqual(['a', 'b', 'B', 'Z']);
    expect(await ids({ userId: 'u', order: 'desc' })).toEqual(['a', 'b', 'B', 'Z']);
    expect(await ids({ order: 'desc' })).toEqual(['c', 'a', 'b', 'B', 'Z']);
    expect(await ids({ order: 'desc', limit: 2, page: 2 })).toEqual(['b', 'B']);
    expect(await ids({ order: 'asc' })).toEqual(['a', 'b', 'B', 'Z', 'c']);
    expect(await ids({ order: 'asc', limit: 2, offset: 3 })).toEqual(['Z', 'c']);
    expect(await service.listSessions({ appName: 'app', order: 'asc', limit: 2, offset: 3 })).toMatchObject({ page: 2, limit: 2, totalItems: 5, totalPages: 3 });
    expect(await service.listSessions({ appName: 'app', limit: 0 })).toMatchObject({ sessions: [], page: 1, limit: 0, totalItems: 5, totalPages: 0 });
    expect(await service.listSessions({ appName: 'app', offset: 4 })).toMatchObject({ page: 1, limit: 5, totalItems: 5, totalPages: 1 });
    expect((await service.listSessions({ appName: 'app', offset: 4 })).sessions).toHaveLength(1);
    expect(await service.listSessions({ appName: 'nope', limit: 3, page: 2 })).toEqual({ sessions: [], page: 2, limit: 3, totalItems: 0, totalPages: 0 });
    expect(await service.listSessions({ appName: 'nope' })).toEqual({ sessions: [], page: 1, limit: 0, totalItems: 0, totalPages: 0 });
    // Items carry no events and no state, as InMemorySessionService's.
    const [item] = (await service.listSessions({ appName: 'app', userId: 'v' })).sessions;
    expect(item).toEqual({ id: 'c', appName: 'app', userId: 'v', state: {}, events: [], lastUpdateTime: 2000 });
    for (const request of [{ limit: -1 }, { offset: -1 }, { page: 0 }, { order: 'newest' }, { userId: '' }]) {
      await expect(service.listSessions({ appName: 'app', ...request } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('deletes a session and its events, keeps the app: and user: state, and ignores a missing one', async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await service.appendEvent({ session, event: event({ id: 'e', timestamp: 1, delta: { mine: 1, 'user:u': 1, 'app:a': 1 } }) });
    await service.deleteSession(key(session));
    await expect(service.deleteSession(key(session))).resolves.toBeUndefined();
    expect(await service.getSession(key(session))).toBeUndefined();
    const again = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    expect(again.state).toEqual({ 'user:u': 1, 'app:a': 1 });
    expect((await service.getSession(key(again)))?.events).toEqual([]);
  });
});

describeEachEngine('AbathurSessionService: stale session objects', (engine) => {
  it("with onStale 'reject' refuses an append from an object older than the stored session, and changes nothing", async () => {
    const service = new AbathurSessionService(await engine.open(), { onStale: 'reject' });
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    const copy = (await service.getSession(key(session)))!;
    await service.appendEvent({ session, event: event({ id: 'e1', timestamp: 1, delta: { k: 1 } }) });
    await service.appendEvent({ session, event: event({ id: 'e2', timestamp: 2, delta: { k: 2 } }) });
    const before = json(copy);
    const refused = service.appendEvent({ session: copy, event: event({ id: 'e3', timestamp: 3, delta: { k: 3 } }) });
    await expect(refused).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(json(copy)).toEqual(before);
    const stored = (await service.getSession(key(session)))!;
    expect(stored.events.map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(stored.state).toEqual({ k: 2 });
    // A fresh read appends; so does the object that made the last append.
    await service.appendEvent({ session: stored, event: event({ id: 'e3', timestamp: 3 }) });
    await expect(service.appendEvent({ session, event: event({ id: 'e4', timestamp: 4 }) })).rejects.toMatchObject({ code: 'CONFLICT' });
    await service.appendEvent({ session: stored, event: event({ id: 'e4', timestamp: 4 }) });
  });

  it("with onStale 'reload' appends, then brings the object up to date and keeps its temp: keys", async () => {
    const service = new AbathurSessionService(await engine.open());
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    const copy = (await service.getSession(key(session)))!;
    const events = copy.events;
    const state = copy.state;
    await service.appendEvent({ session, event: event({ id: 'e1', timestamp: 1, delta: { k: 1, 'user:seen': true } }) });
    copy.state['temp:mine'] = 'kept';
    const mine = event({ id: 'e2', timestamp: 2, delta: { j: 2 } });
    await service.appendEvent({ session: copy, event: mine });
    expect(copy.events.map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(copy.events[1]).toBe(mine);
    expect(copy.state).toEqual({ k: 1, j: 2, 'user:seen': true, 'temp:mine': 'kept' });
    // Updated in place: the Runner's tools hold these very objects.
    expect(copy.events).toBe(events);
    expect(copy.state).toBe(state);
    expect(json(await service.getSession(key(session)))).toEqual(json({ ...copy, state: { k: 1, j: 2, 'user:seen': true } }));
  });

  it('judges an object it did not hand out by its lastUpdateTime, as DatabaseSessionService does', async () => {
    const service = new AbathurSessionService(await engine.open(), { onStale: 'reject' });
    const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await service.appendEvent({ session, event: event({ id: 'e1', timestamp: 5000 }) });
    const older = createSession({ id: 's', appName: 'a', userId: 'u', lastUpdateTime: 4999 });
    await expect(service.appendEvent({ session: older, event: event({ id: 'e2', timestamp: 6000 }) })).rejects.toMatchObject({ code: 'CONFLICT' });
    const current = createSession({ id: 's', appName: 'a', userId: 'u', lastUpdateTime: 5000 });
    await service.appendEvent({ session: current, event: event({ id: 'e2', timestamp: 6000 }) });
    expect((await service.getSession(key(session)))?.events.map((e) => e.id)).toEqual(['e1', 'e2']);
  });

  it('takes appends sent at once on one object in call order, each event once in the object, as InMemorySessionService does', async () => {
    for (const onStale of ['reload', 'reject'] as const) {
      const service = new AbathurSessionService(await engine.open(), { onStale });
      const session = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
      const read = (await service.getSession(key(session)))!;
      const atOnce = (target: Session, ids: string[], from: number) =>
        Promise.all(ids.map((id, i) => service.appendEvent({ session: target, event: event({ id, timestamp: from + i, delta: { [id]: i } }) })));
      await atOnce(session, ['e1', 'e2', 'e3'], 1);
      expect(session.events.map((e) => e.id), onStale).toEqual(['e1', 'e2', 'e3']);
      expect(session.state).toEqual({ e1: 0, e2: 1, e3: 2 });
      if (onStale === 'reload') {
        // `read` is stale: its first append catches it up, the others follow it.
        await atOnce(read, ['e4', 'e5', 'e6'], 4);
        expect(read.events.map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
        expect(json(await service.getSession(key(session)))).toEqual(json(read));
      }
    }
  });

  it('treats an object of a deleted and recreated session as stale', async () => {
    const service = new AbathurSessionService(await engine.open(), { onStale: 'reject' });
    const old = await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await service.deleteSession(key(old));
    await service.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    await expect(service.appendEvent({ session: old, event: event({ id: 'e', timestamp: 1 }) })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
