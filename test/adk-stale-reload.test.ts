import { createEvent, createSession, type Event, type Session } from '@google/adk';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { engineOf, type Store } from '../src/store.js';
import { AbathurSessionService } from '../src/adk/index.js';
import type { AdkSessionRecord } from '../src/catalogue/adk.js';
import { openInProcessStore } from './helpers/in-process-store.js';

// A stale session object of a long session, brought up to date after its append committed
// (onStale 'reload'). The log is written straight into the file: appending 200,000 events
// through the store would take most of a minute and prove nothing more.

/** Past where spreading an array into a call's arguments overflows Node 20's stack (about 125,000). */
const LONG = 200_000;
const key = { appName: 'a', userId: 'u', sessionId: 's' };

function event(id: string, timestamp: number, delta: Record<string, unknown> = {}): Event {
  return createEvent({ id, author: 'agent', invocationId: 'inv', timestamp, actions: { stateDelta: delta } });
}

/** Gives the ADK session `key` a log of LONG events e1…eLONG, as if appended through another object. */
function writeLongLog(store: Store): void {
  const db = new Database(store.path);
  try {
    db.transaction(() => {
      const storeId = db.prepare('SELECT session_id FROM adk_sessions WHERE app_name = ? AND user_id = ? AND id = ?').pluck().get('a', 'u', 's');
      db.prepare(
        'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) ' +
          "INSERT INTO session_events (session_id, seq, event_id, event) SELECT ?, i, 'e' || i, " +
          "json_object('id', 'e' || i, 'author', 'agent', 'invocationId', 'inv', 'timestamp', i, 'actions', json_object('stateDelta', json('{}'))) FROM n",
      ).run(LONG, storeId);
      db.prepare('UPDATE sessions SET event_count = ? WHERE id = ?').run(LONG, storeId);
      db.prepare("UPDATE adk_sessions SET version = version + 1, last_update_time = ? WHERE app_name = 'a' AND user_id = 'u' AND id = 's'").run(LONG);
    })();
  } finally {
    db.close();
  }
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

describe('a stale session object of a long session', () => {
  it('appends, then takes only the events appended after those it holds: no read of the whole log, no RangeError', async () => {
    const store = await openInProcessStore();
    const service = new AbathurSessionService(store);
    await service.createSession(key);
    writeLongLog(store);
    const stale = (await service.getSession({ ...key, config: { numRecentEvents: 2 } }))!;
    const other = (await service.getSession({ ...key, config: { numRecentEvents: 1 } }))!;
    await service.appendEvent({ session: other, event: event('other', LONG + 1, { k: 'other' }) });

    const reads = countReads(store);
    const mine = event('mine', LONG + 2, { j: 'mine' });
    await expect(service.appendEvent({ session: stale, event: mine })).resolves.toBe(mine);
    expect(stale.events.map((e) => e.id)).toEqual([`e${LONG - 1}`, `e${LONG}`, 'other', 'mine']);
    expect(stale.events[3]).toBe(mine);
    expect(stale.state).toEqual({ k: 'other', j: 'mine' });
    expect(stale.lastUpdateTime).toBe(LONG + 2);
    // One read, of the two events after the object's last: not the 200,002 of the log.
    expect(reads).toEqual([2]);
    expect(json(await service.getSession({ ...key, config: { numRecentEvents: 4 } }))).toEqual(json(stale));
  });

  it('reloads whole an object it cannot place (not handed out by this service), without spreading the log into a call', async () => {
    const store = await openInProcessStore();
    const service = new AbathurSessionService(store);
    await service.createSession(key);
    writeLongLog(store);
    // Older than the stored session by its lastUpdateTime, holding events of its own.
    const stranger: Session = createSession({ id: 's', appName: 'a', userId: 'u', lastUpdateTime: 1, events: [event('lost', 1)] });
    const events = stranger.events;
    const mine = event('mine', LONG + 1);
    await expect(service.appendEvent({ session: stranger, event: mine })).resolves.toBe(mine);
    expect(stranger.events).toBe(events);
    expect(stranger.events).toHaveLength(LONG + 1);
    expect(stranger.events[0]!.id).toBe('e1');
    expect(stranger.events[LONG - 1]!.id).toBe(`e${LONG}`);
    expect(stranger.events[LONG]).toBe(mine);
  });
});

describe('a stale session object whose session goes while it catches up', () => {
  it('keeps what it held, plus its own event, when the session was deleted before the reload read it', async () => {
    const store = await openInProcessStore();
    const service = new AbathurSessionService(store);
    const stale = await service.createSession(key);
    const other = (await service.getSession(key))!;
    await service.appendEvent({ session: other, event: event('other', 1) });
    // The session is deleted between this append's commit and the reload's read.
    const engine = engineOf(store);
    const call = engine.call.bind(engine);
    vi.spyOn(engine, 'call').mockImplementation(async (operation, build, signal) => {
      if (operation.name === 'adk.sessions.get') await service.deleteSession(key);
      return call(operation, build, signal);
    });
    const mine = event('mine', 2, { k: 1 });
    await expect(service.appendEvent({ session: stale, event: mine })).resolves.toBe(mine);
    expect(stale.events).toEqual([mine]);
    expect(stale.state).toEqual({ k: 1 });
    expect(stale.lastUpdateTime).toBe(2);
  });
});

const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
