import { createEvent, InMemorySessionService, type Event, type ListSessionsRequest, type Session } from '@google/adk';
import fc from 'fast-check';
import { afterEach, expect, it, vi } from 'vitest';
import { AbathurSessionService } from '../src/adk/index.js';
import { describeEachEngine, type TestEngine } from './helpers/engines.js';

// The same generated sequence of createSession / getSession / listSessions / appendEvent /
// deleteSession calls runs on ADK's own InMemorySessionService and on AbathurSessionService
// (onStale 'reload'); after every step the results, and every stored session, are equal.
//
// No ids or timestamps need normalising: the sequence names every session and event and
// gives every event its timestamp, and Date.now (the creation time in both services) is
// stubbed to the time the step says. Results are compared as JSON (toEqual), which ignores
// key order, prototypes and undefined keys (the Runner's events carry some).
//
// Where ADK's InMemorySessionService does something this adapter deliberately does not,
// the step asserts the adapter's behaviour and does not run on InMemory (each is listed in
// the README, "ADK"):
// - D1 createSession with an id the app and user already have: InMemory silently replaces
//   the session with an empty one; here it rejects CONFLICT and changes nothing.
// - D2 a partial event: InMemory does not store it, but still sets lastUpdateTime and writes
//   its app:/user: keys; here it changes nothing at all.
// - D3 appendEvent to a session that is not stored: InMemory logs a warning and mutates the
//   caller's object; here it rejects NOT_FOUND and changes nothing.
// - D4 numRecentEvents < 0: InMemory drops the first n events (DatabaseSessionService
//   returns all); here it is refused INVALID_ARGUMENT.
// - D5 an append from a stale session object (another object appended since it was read):
//   InMemory pushes the event onto the stale object, which then lacks the other appends;
//   here ('reload') the object is brought up to date. Stored sessions stay equal; from then
//   on that object is compared with the stored session, not with InMemory's object. An
//   object read with numRecentEvents or afterTimestamp stays such a view: it gains the
//   events appended since, and is compared with the stored session's newest events.
// - D6 listSessions without `order` is in no specified order (InMemory: insertion order,
//   integer-like ids first; here: by user, then id): compared as sorted lists, and
//   paginated unordered pages by their sizes and totals only.
// - D7 ADK orders listed sessions by (lastUpdateTime, id): sessions of two users with the
//   same id and lastUpdateTime are left in no specified order; those lists are compared
//   without the userId, plus the whole list's userIds as a multiset.
// Not generated here, and covered by adk-session-service.test.ts instead:
// - D8 app:/user: keys in createSession's state: InMemory keeps them in that one session;
//   here (as DatabaseSessionService) they go to their scopes.
// - D9 generated session ids: random UUIDs in both services, so they cannot be compared by
//   value; the sequence names its sessions.

const RUNS = Number(process.env.ABATHUR_FUZZ_RUNS ?? 60);

// Few names, so that sequences revisit sessions; mixed case, punctuation and digits, so
// that ordering by id with localeCompare differs from binary order.
const APPS = ['app', 'app', 'app', 'app', 'App'] as const;
const USERS = ['u1', 'u1', 'u1', 'u2', 'u2', 'U1'] as const;
const IDS = ['s1', 'S1', 's-1', 'a_b', 'aB', '10', '2'] as const;
const TIMES = [1000, 1001, 2000, 3000] as const;
const STATE_KEYS = ['k1', 'k2', 'temp:t'] as const;
const DELTA_KEYS = ['k1', 'k2', 'temp:t', 'temp:k1', 'app:a1', 'app:a2', 'user:p1', 'user:p2', 'app:user:x'] as const;

const value = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('x', 'y', ''),
  fc.constant(null),
  fc.boolean(),
  fc.record({ n: fc.integer({ min: 0, max: 2 }) }),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
);
const entries = (keys: readonly string[]) => fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 4 });
const key = fc.record({ app: fc.constantFrom(...APPS), user: fc.constantFrom(...USERS), id: fc.constantFrom(...IDS) });
/** Mostly a session that exists when the step runs (its index among them), else `key`. */
const pick = fc.oneof({ arbitrary: fc.nat(), weight: 4 }, { arbitrary: fc.constant(null), weight: 1 });

type Key = { app: string; user: string; id: string };
type Command =
  | { kind: 'create'; key: Key; state: [string, unknown][]; now: number }
  | { kind: 'get'; key: Key; pick: number | null; recent: number | null; after: number | null }
  | { kind: 'list'; app: string; user: string | null; limit: number | null; offset: number | null; page: number | null; order: 'asc' | 'desc' | null }
  | { kind: 'append'; target: number; eventId: 'fresh' | 'replay' | number; timestamp: number; partial: boolean; text: string; delta: [string, unknown][] }
  | { kind: 'delete'; key: Key; pick: number | null };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('create' as const), key, state: entries(STATE_KEYS), now: fc.constantFrom(...TIMES) }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('get' as const),
      key,
      pick,
      recent: fc.option(fc.integer({ min: -2, max: 4 })),
      after: fc.option(fc.constantFrom(0, 1500, ...TIMES)),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('list' as const),
      app: fc.constantFrom(...APPS),
      user: fc.option(fc.constantFrom(...USERS), { freq: 2 }),
      limit: fc.option(fc.integer({ min: 0, max: 4 })),
      offset: fc.option(fc.integer({ min: 0, max: 5 })),
      page: fc.option(fc.integer({ min: 1, max: 3 })),
      order: fc.option(fc.constantFrom('asc' as const, 'desc' as const)),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      target: fc.nat(),
      eventId: fc.oneof(fc.constant('fresh' as const), fc.constant('replay' as const), fc.nat({ max: 5 })),
      timestamp: fc.constantFrom(...TIMES, 4000),
      partial: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      text: fc.constantFrom('hello', 'weather in Paris', ''),
      delta: entries(DELTA_KEYS),
    }),
    weight: 6,
  },
  fc.record({ kind: fc.constant('delete' as const), key, pick }),
);

/** A session object as each service handed it out, and what the test knows about it. */
interface Live {
  key: Key;
  ours: Session;
  theirs: Session;
  /** The stored session's incarnation and write count when the objects were read or last appended to. */
  incarnation: number;
  seen: number;
  /** The app's and the user's scope write counts the object's state reflects. */
  appSeen: number;
  userSeen: number;
  /** InMemory's object went stale once (D5): it is no longer compared with ours. */
  diverged: boolean;
  /** The object holds a filtered view (numRecentEvents / afterTimestamp) of the events. */
  partialView: boolean;
  /**
   * Its events are the stored session's newest, in order: true until an append that was not
   * stale sent the id of an event outside the view (ADK then pushes that event at the end).
   */
  newest: boolean;
}

interface Stored {
  /** A new number for each createSession of this key (a deleted session's objects are stale). */
  incarnation: number;
  /** Appends to this session (replays too: the test errs towards calling an object stale). */
  writes: number;
  eventIds: string[];
  last: { ours: Event; theirs: Event } | undefined;
}

const json = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
const keyText = (k: Key): string => JSON.stringify([k.app, k.user, k.id]);
const request = (k: Key) => ({ appName: k.app, userId: k.user, sessionId: k.id });

type Listed = { sessions: { id: string; userId: string; lastUpdateTime: number }[] };

/** D7: whether a list holds two sessions of different users with the same id and time. */
function hasCrossUserTie(list: Listed): boolean {
  const seen = new Map<string, string>();
  for (const s of list.sessions) {
    const k = `${s.id}\u0000${s.lastUpdateTime}`;
    const user = seen.get(k);
    if (user !== undefined && user !== s.userId) return true;
    seen.set(k, s.userId);
  }
  return false;
}

const byUserAndId = (a: { userId: string; id: string }, b: { userId: string; id: string }): number =>
  a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

async function runSequence(engine: TestEngine, commands: Command[]): Promise<void> {
  const store = await engine.open();
  const ours = new AbathurSessionService(store, { onStale: 'reload' });
  const theirs = new InMemorySessionService();
  const stored = new Map<string, Stored>();
  const lives: Live[] = [];
  // Writes of app: keys per app and of user: keys per app and user: a session object does not
  // see those made through other sessions until it is read again (in both services).
  const scopeWrites = new Map<string, number>();
  const appScope = (k: Key): string => JSON.stringify([k.app]);
  const userScope = (k: Key): string => JSON.stringify([k.app, k.user]);
  const writesOf = (scope: string): number => scopeWrites.get(scope) ?? 0;
  const live = (k: Key, ours: Session, theirs: Session, s: Stored, partialView: boolean): Live => ({
    key: k,
    ours,
    theirs,
    incarnation: s.incarnation,
    seen: s.writes,
    appSeen: writesOf(appScope(k)),
    userSeen: writesOf(userScope(k)),
    diverged: false,
    partialView,
    newest: true,
  });
  let incarnations = 0;
  let now = 1;
  const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
  let counter = 0;

  const expectStoredEqual = async (k: Key): Promise<void> => {
    const [a, b] = await Promise.all([ours.getSession(request(k)), theirs.getSession(request(k))]);
    expect(json(a), `stored ${keyText(k)}`).toEqual(json(b));
  };
  const expectAllStoredEqual = async (): Promise<void> => {
    // Issued together: the reads of one tick go to the reader as one batch.
    await Promise.all(
      [...stored.keys()].map((text) => {
        const [app, user, id] = JSON.parse(text) as [string, string, string];
        return expectStoredEqual({ app, user, id });
      }),
    );
  };

  try {
    const existing = (c: { key: Key; pick: number | null }): Key => {
      const keys = [...stored.keys()];
      if (c.pick === null || keys.length === 0) return c.key;
      const [app, user, id] = JSON.parse(keys[c.pick % keys.length]!) as [string, string, string];
      return { app, user, id };
    };
    for (const step of commands) {
      const c = step.kind === 'get' || step.kind === 'delete' ? { ...step, key: existing(step) } : step;
      switch (c.kind) {
        case 'create': {
          now = c.now;
          const state = Object.fromEntries(c.state);
          if (stored.has(keyText(c.key))) {
            // D1
            await expect(ours.createSession({ ...request(c.key), state })).rejects.toMatchObject({
              code: 'CONFLICT',
              message: `Session with id ${c.key.id} already exists.`,
            });
            break;
          }
          const [a, b] = await Promise.all([
            ours.createSession({ ...request(c.key), state: structuredClone(state) }),
            theirs.createSession({ ...request(c.key), state: structuredClone(state) }),
          ]);
          expect(json(a)).toEqual(json(b));
          const s: Stored = { incarnation: ++incarnations, writes: 0, eventIds: [], last: undefined };
          stored.set(keyText(c.key), s);
          lives.push(live(c.key, a, b, s, false));
          break;
        }
        case 'get': {
          const config = {
            ...(c.recent === null ? {} : { numRecentEvents: c.recent }),
            ...(c.after === null ? {} : { afterTimestamp: c.after }),
          };
          if (c.recent !== null && c.recent < 0) {
            // D4
            await expect(ours.getSession({ ...request(c.key), config })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
            break;
          }
          const [a, b] = await Promise.all([
            ours.getSession({ ...request(c.key), config }),
            theirs.getSession({ ...request(c.key), config }),
          ]);
          expect(json(a)).toEqual(json(b));
          const s = stored.get(keyText(c.key));
          if (a !== undefined && b !== undefined && s !== undefined) {
            lives.push(live(c.key, a, b, s, Boolean(c.recent || c.after)));
          }
          break;
        }
        case 'list': {
          const req: ListSessionsRequest = {
            appName: c.app,
            ...(c.user === null ? {} : { userId: c.user }),
            ...(c.limit === null ? {} : { limit: c.limit }),
            ...(c.offset === null ? {} : { offset: c.offset }),
            ...(c.page === null ? {} : { page: c.page }),
            ...(c.order === null ? {} : { order: c.order }),
          };
          const [a, b] = (await Promise.all([ours.listSessions(req), theirs.listSessions(req)])).map(json) as [Listed, Listed];
          const { sessions: sa, ...restA } = a;
          const { sessions: sb, ...restB } = b;
          expect(restA).toEqual(restB);
          if (c.order === null) {
            // D6
            if (c.limit === null && !c.offset) expect([...sa].sort(byUserAndId)).toEqual([...sb].sort(byUserAndId));
            else expect(sa.length).toBe(sb.length);
          } else if (c.user === null && hasCrossUserTie(json(await theirs.listSessions({ appName: c.app })) as Listed)) {
            // D7
            const noUser = (list: Listed['sessions']) => list.map(({ userId: _, ...rest }) => rest);
            expect(noUser(sa)).toEqual(noUser(sb));
            const whole = async (svc: typeof ours | typeof theirs) =>
              ((await svc.listSessions({ appName: c.app })).sessions.map((s) => s.userId)).sort();
            expect(await whole(ours)).toEqual(await whole(theirs));
          } else {
            expect(sa).toEqual(sb);
          }
          break;
        }
        case 'append': {
          if (lives.length === 0) break;
          const l = lives[c.target % lives.length]!;
          const s = stored.get(keyText(l.key));
          let id: string;
          let events: { ours: Event; theirs: Event };
          if (c.eventId === 'replay' && s?.last !== undefined) {
            events = s.last;
            id = events.ours.id;
          } else {
            id = typeof c.eventId === 'number' && s !== undefined && s.eventIds.length > 0 ? s.eventIds[c.eventId % s.eventIds.length]! : `e${counter++}`;
            const params = {
              id,
              author: 'agent',
              timestamp: c.timestamp,
              invocationId: 'inv',
              ...(c.partial ? { partial: true } : {}),
              ...(c.text === '' ? {} : { content: { role: 'model', parts: [{ text: c.text }] } }),
              actions: { stateDelta: Object.fromEntries(c.delta) },
            };
            events = { ours: createEvent(structuredClone(params)), theirs: createEvent(structuredClone(params)) };
          }
          if (events.ours.partial) {
            // D2
            const before = json(await ours.getSession(request(l.key)));
            expect(await ours.appendEvent({ session: l.ours, event: events.ours })).toBe(events.ours);
            expect(json(await ours.getSession(request(l.key)))).toEqual(before);
            break;
          }
          if (s === undefined) {
            // D3
            const before = json(l.ours);
            await expect(ours.appendEvent({ session: l.ours, event: events.ours })).rejects.toMatchObject({ code: 'NOT_FOUND' });
            expect(json(l.ours)).toEqual(before);
            break;
          }
          const stale = l.incarnation !== s.incarnation || l.seen !== s.writes;
          if (!stale && s.eventIds.includes(id) && !l.ours.events.some((e) => e.id === id)) l.newest = false;
          const scopesFresh = l.appSeen === writesOf(appScope(l.key)) && l.userSeen === writesOf(userScope(l.key));
          const [a, b] = await Promise.all([
            ours.appendEvent({ session: l.ours, event: events.ours }),
            theirs.appendEvent({ session: l.theirs, event: events.theirs }),
          ]);
          expect(a).toBe(events.ours);
          expect(json(a)).toEqual(json(b));
          s.writes++;
          if (!s.eventIds.includes(id)) s.eventIds.push(id);
          s.last = events;
          const keys = Object.keys(events.ours.actions.stateDelta);
          if (keys.some((k) => k.startsWith('app:'))) scopeWrites.set(appScope(l.key), writesOf(appScope(l.key)) + 1);
          if (keys.some((k) => k.startsWith('user:'))) scopeWrites.set(userScope(l.key), writesOf(userScope(l.key)) + 1);
          Object.assign(l, { incarnation: s.incarnation, seen: s.writes });
          if (stale) {
            // D5: ours was reloaded from the store, InMemory's was not.
            Object.assign(l, { diverged: true });
          }
          if (stale || scopesFresh) {
            Object.assign(l, { appSeen: writesOf(appScope(l.key)), userSeen: writesOf(userScope(l.key)) });
            const storedNow = json(await ours.getSession(request(l.key))) as { events: unknown[] };
            if (!l.partialView) expect(json(l.ours), 'our object after append').toEqual(storedNow);
            else if (l.newest) {
              const view = json(l.ours) as { events: unknown[] };
              const newest = storedNow.events.slice(storedNow.events.length - view.events.length);
              expect(view, 'our view after append').toEqual({ ...storedNow, events: newest });
            }
          }
          if (!l.diverged) expect(json(l.ours), 'our object vs InMemory object').toEqual(json(l.theirs));
          break;
        }
        case 'delete': {
          await Promise.all([ours.deleteSession(request(c.key)), theirs.deleteSession(request(c.key))]);
          stored.delete(keyText(c.key));
          const [a, b] = await Promise.all([ours.getSession(request(c.key)), theirs.getSession(request(c.key))]);
          expect(a).toBeUndefined();
          expect(b).toBeUndefined();
          break;
        }
      }
      await expectAllStoredEqual();
    }
  } finally {
    clock.mockRestore();
    await store.close();
  }
}

describeEachEngine('AbathurSessionService against ADK InMemorySessionService', (engine) => {
  // Each sequence runs on a fresh database; on PostgreSQL every call is a round trip to the
  // server and a sequence takes about five times as long, so a third as many run there.
  const runs = engine.name === 'postgres' ? Math.ceil(RUNS / 3) : RUNS;

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives the same results for the same generated call sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 60 }), (commands) => runSequence(engine, commands)),
      { numRuns: runs },
    );
  });

  it('gives the same results when many sessions are listed, paginated and ordered', async () => {
    // Sessions of one app first, created at few distinct times (ties in lastUpdateTime),
    // then any steps, with more lists.
    const create = fc.record({
      kind: fc.constant('create' as const),
      key: fc.record({ app: fc.constant('app'), user: fc.constantFrom(...USERS), id: fc.constantFrom(...IDS) }),
      state: fc.constant<[string, unknown][]>([]),
      now: fc.constantFrom(...TIMES),
    });
    const list = command.filter((c) => c.kind === 'list' || c.kind === 'append');
    const sequence = fc
      .tuple(fc.array(create, { minLength: 6, maxLength: 16 }), fc.array(fc.oneof(list, command), { minLength: 5, maxLength: 30 }))
      .map(([creates, steps]): Command[] => [...creates, ...steps]);
    await fc.assert(fc.asyncProperty(sequence, (commands) => runSequence(engine, commands)), { numRuns: Math.ceil(runs / 2) });
  });

  it('agrees on a sequence with every kind of step (a fixed example)', async () => {
    const k = (id: string, user = 'u1'): Key => ({ app: 'app', user, id });
    await runSequence(engine, [
      { kind: 'create', key: k('s1'), state: [['k1', 1], ['temp:t', 2]], now: 1000 },
      { kind: 'create', key: k('s2', 'u2'), state: [], now: 1000 },
      { kind: 'create', key: k('S1'), state: [], now: 1000 },
      { kind: 'append', target: 0, eventId: 'fresh', timestamp: 2000, partial: false, text: 'hello', delta: [['app:a1', 1], ['user:p1', { n: 1 }], ['temp:t', 3], ['k2', null]] },
      { kind: 'append', target: 0, eventId: 0, timestamp: 1001, partial: false, text: 'weather in Paris', delta: [['k1', [1]]] },
      { kind: 'append', target: 0, eventId: 'replay', timestamp: 1001, partial: false, text: '', delta: [] },
      { kind: 'get', key: k('s1'), pick: null, recent: 1, after: 1000 },
      { kind: 'append', target: 0, eventId: 'fresh', timestamp: 3000, partial: false, text: '', delta: [['k2', true]] },
      { kind: 'append', target: 3, eventId: 'fresh', timestamp: 4000, partial: false, text: '', delta: [] },
      { kind: 'list', app: 'app', user: null, limit: 2, offset: null, page: 2, order: 'desc' },
      { kind: 'list', app: 'app', user: 'u1', limit: null, offset: 1, page: null, order: 'asc' },
      { kind: 'delete', key: k('s1'), pick: null },
      { kind: 'append', target: 0, eventId: 'fresh', timestamp: 4000, partial: false, text: '', delta: [] },
      { kind: 'create', key: k('s1'), state: [], now: 3000 },
      { kind: 'append', target: 0, eventId: 'fresh', timestamp: 4000, partial: false, text: '', delta: [['user:p2', 'x']] },
    ]);
  });
});
