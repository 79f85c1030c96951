import { describe, expect, it } from 'vitest';
import { operations } from '../src/catalogue/index.js';
import { specOf } from '../src/catalogue/operation.js';
import { explain } from '../src/sqlite/query-plan.js';
import { populatedDatabase } from './helpers/query-plan.js';
import type { Store } from '../src/store.js';
import { describeEachEngine } from './helpers/engines.js';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function auditActions(store: Store): Promise<string[]> {
  return (await store.audit.list({ limit: 1000 })).items.map((a) => a.actionType).reverse();
}

describeEachEngine('the event log', (engine) => {
  it('numbers events 1, 2, 3… and returns seq, eventCount and lastUpdateTime', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const first = await store.sessions.appendEvent(id, { n: 1 });
    const second = await store.sessions.appendEvent(id, 'two', { eventId: 'e2' });
    expect(first).toEqual({ seq: 1, eventCount: 1, lastUpdateTime: expect.stringMatching(TIME) });
    expect(second).toMatchObject({ seq: 2, eventCount: 2 });
    const page = await store.sessions.events(id);
    expect(page).toEqual({
      items: [
        { seq: 1, eventId: null, event: { n: 1 }, createdAt: first.lastUpdateTime },
        { seq: 2, eventId: 'e2', event: 'two', createdAt: second.lastUpdateTime },
      ],
      nextCursor: undefined,
    });
    expect((await store.sessions.get(id))?.eventCount).toBe(2);
  });

  it('makes an append with a known eventId idempotent: the first seq back, nothing changed', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u', state: { step: 0 } });
    const other = await store.sessions.create({ appName: 'a', userId: 'u' });
    await store.sessions.appendEvent(id, 'before');
    const original = await store.sessions.appendEvent(id, { text: 'hello' }, { eventId: 'msg-1', stateDelta: { step: 1 } });
    await store.sessions.appendEvent(id, 'after', { stateDelta: { step: 2 } });
    const auditBefore = await auditActions(store);
    const retry = await store.sessions.appendEvent(id, { text: 'hello, again' }, { eventId: 'msg-1', stateDelta: { step: 99 } });
    expect(retry.seq).toBe(original.seq);
    expect(retry.eventCount).toBe(3);
    const session = await store.sessions.get(id);
    expect(session?.events).toEqual(['before', { text: 'hello' }, 'after']);
    expect(session?.state).toEqual({ step: 2 });
    expect(retry.lastUpdateTime).toBe(session?.lastUpdateTime);
    expect(await auditActions(store)).toEqual(auditBefore);
    // Ids are per session.
    expect(await store.sessions.appendEvent(other.id, 'elsewhere', { eventId: 'msg-1' })).toMatchObject({ seq: 1, eventCount: 1 });
  });

  it('appends a batch in one operation: seqs in order, one state merge, one audit row', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u', state: { keep: 1 } });
    await store.sessions.appendEvent(id, 'zero', { eventId: 'z' });
    const result = await store.sessions.appendEvents(
      id,
      [{ event: 'a', eventId: 'x' }, { event: 'b' }, { event: 'zero again', eventId: 'z' }, { event: 'a again', eventId: 'x' }, { event: 'c' }],
      { stateDelta: { step: 1 } },
    );
    expect(result).toEqual({ seqs: [2, 3, 1, 2, 4], eventCount: 4, lastUpdateTime: expect.stringMatching(TIME) });
    const session = await store.sessions.get(id);
    expect(session?.events).toEqual(['zero', 'a', 'b', 'c']);
    expect(session?.state).toEqual({ keep: 1, step: 1 });
    expect(await auditActions(store)).toEqual(['session_create', 'session_append_event', 'session_append_events']);
    const [audit] = (await store.audit.list({ limit: 1 })).items;
    expect(audit?.actionData).toEqual({ sessionId: id, firstSeq: 2, count: 3, stateDelta: true });

    // Retried whole: nothing appended, the state delta not applied again.
    const retry = await store.sessions.appendEvents(id, [{ event: 'a', eventId: 'x' }, { event: 'z', eventId: 'z' }], { stateDelta: { step: 2 } });
    expect(retry).toEqual({ seqs: [2, 1], eventCount: 4, lastUpdateTime: session?.lastUpdateTime });
    expect((await store.sessions.get(id))?.state).toEqual({ keep: 1, step: 1 });
    expect(await auditActions(store)).toHaveLength(3);
  });

  it('refuses a batch whole: to a terminated or missing session nothing is appended', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    await store.sessions.setStatus(id, 'terminated');
    await expect(store.sessions.appendEvents(id, [{ event: 1 }, { event: 2 }])).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(store.sessions.appendEvents('missing', [{ event: 1 }])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await store.sessions.get(id))?.eventCount).toBe(0);
    expect(await store.sessions.events(id)).toEqual({ items: [], nextCursor: undefined });
  });

  it('pages through the log either way, between bounds, with cursors', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    await store.sessions.appendEvents(id, Array.from({ length: 25 }, (_, i) => ({ event: { i: i + 1 } })));
    const collect = async (options: Parameters<typeof store.sessions.events>[1]): Promise<number[]> => {
      const seqs: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.sessions.events(id, { ...options, ...(cursor === undefined ? {} : { cursor }) });
        expect(page.items.length).toBeLessThanOrEqual(options?.limit ?? 50);
        for (const item of page.items) expect(item.event).toEqual({ i: item.seq });
        seqs.push(...page.items.map((e) => e.seq));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return seqs;
    };
    const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(await collect({ limit: 10 })).toEqual(range(1, 25));
    expect(await collect({ limit: 7, order: 'desc' })).toEqual(range(1, 25).reverse());
    expect(await collect({ limit: 4, afterSeq: 10, beforeSeq: 20 })).toEqual(range(11, 19));
    expect(await collect({ limit: 4, afterSeq: 10, beforeSeq: 20, order: 'desc' })).toEqual(range(11, 19).reverse());
    expect((await store.sessions.events(id, { afterSeq: 25 })).items).toEqual([]);
    expect(await store.sessions.events('missing')).toEqual({ items: [], nextCursor: undefined });

    const { nextCursor } = await store.sessions.events(id, { limit: 5 });
    await expect(store.sessions.events(id, { cursor: nextCursor!, order: 'desc' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'cursor continues a list in asc order, not desc',
    });
    await expect(store.sessions.events(id, { cursor: 'garbage' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.sessions.events(id, { order: 'newest' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.sessions.events(id, { afterSeq: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('trims the oldest events: eventCount stays, the first kept seq is reported, numbering goes on', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    await store.sessions.appendEvents(id, Array.from({ length: 10 }, (_, i) => ({ event: i + 1 })));
    expect(await store.sessions.trimEvents(id, { keepLast: 4 })).toEqual({ deleted: 6, firstSeq: 7, eventCount: 10 });
    let session = await store.sessions.get(id);
    expect(session?.events).toEqual([7, 8, 9, 10]);
    expect(session?.eventCount).toBe(10);
    expect(await store.sessions.appendEvent(id, 11)).toMatchObject({ seq: 11, eventCount: 11 });
    expect(await store.sessions.trimEvents(id, { keepLast: 100 })).toEqual({ deleted: 0, firstSeq: 7, eventCount: 11 });
    expect((await store.sessions.get(id, { lastEvents: 2 }))?.events).toEqual([10, 11]);
    expect(await store.sessions.trimEvents(id, { keepLast: 0 })).toEqual({ deleted: 5, firstSeq: null, eventCount: 11 });
    session = await store.sessions.get(id);
    expect(session).toMatchObject({ events: [], eventCount: 11 });
    const [audit] = (await store.audit.list({ limit: 1 })).items;
    expect(audit).toMatchObject({ actionType: 'session_trim_events', actionData: { sessionId: id, keepLast: 0, deleted: 5, firstSeq: null } });
    await expect(store.sessions.trimEvents('missing', { keepLast: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.sessions.trimEvents(id, {} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('keepLast') });
  });

  it('keeps an eventId idempotent after its event was trimmed: the retry gets the first seq back and appends nothing', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u', state: { step: 0 } });
    expect(await store.sessions.appendEvent(id, 'first', { eventId: 'once', stateDelta: { step: 1 } })).toMatchObject({ seq: 1 });
    await store.sessions.appendEvents(id, [{ event: 'second', eventId: 'twice' }, { event: 'third' }]);
    expect(await store.sessions.trimEvents(id, { keepLast: 1 })).toEqual({ deleted: 2, firstSeq: 3, eventCount: 3 });
    const auditBefore = await auditActions(store);
    const { lastUpdateTime } = (await store.sessions.get(id))!;

    // A retry of each trimmed event, one by one and as a batch: the first seqs, nothing appended.
    expect(await store.sessions.appendEvent(id, 'first, again', { eventId: 'once', stateDelta: { step: 99 } })).toEqual({
      seq: 1,
      eventCount: 3,
      lastUpdateTime,
    });
    expect(await store.sessions.appendEvents(id, [{ event: 'x', eventId: 'twice' }, { event: 'y', eventId: 'once' }], { stateDelta: { step: 98 } })).toEqual({
      seqs: [2, 1],
      eventCount: 3,
      lastUpdateTime,
    });
    // A batch mixing a trimmed id, a kept one and new events appends only the new ones.
    expect(await store.sessions.appendEvents(id, [{ event: 'z', eventId: 'once' }, { event: 'fourth', eventId: 'new' }, { event: 'fifth' }])).toMatchObject({
      seqs: [1, 4, 5],
      eventCount: 5,
    });
    const session = await store.sessions.get(id);
    expect(session).toMatchObject({ events: ['third', 'fourth', 'fifth'], eventCount: 5, state: { step: 1 } });
    expect(await auditActions(store)).toEqual([...auditBefore, 'session_append_events']);

    // Trimmed again, past ids kept from the first trim and from this one.
    await store.sessions.trimEvents(id, { keepLast: 0 });
    expect(await store.sessions.appendEvent(id, 'again', { eventId: 'new' })).toMatchObject({ seq: 4, eventCount: 5 });
    expect(await store.sessions.appendEvent(id, 'again', { eventId: 'once' })).toMatchObject({ seq: 1, eventCount: 5 });
    expect(await store.sessions.events(id)).toEqual({ items: [], nextCursor: undefined });
    // Ids are still per session, and go with their session.
    const other = await store.sessions.create({ appName: 'a', userId: 'u' });
    expect(await store.sessions.appendEvent(other.id, 'elsewhere', { eventId: 'once' })).toMatchObject({ seq: 1, eventCount: 1 });
    await store.sessions.delete(id);
    const reborn = await store.sessions.create({ id, appName: 'a', userId: 'u' });
    expect(await store.sessions.appendEvent(reborn.id, 'fresh', { eventId: 'once' })).toMatchObject({ seq: 1, eventCount: 1 });
    expect(await store.sessions.appendEvent(reborn.id, 'fresh', { eventId: 'new' })).toMatchObject({ seq: 2, eventCount: 2 });
  });

  it('reads the newest n events of each listed session; deleting a session deletes its log', async () => {
    const store = await engine.open();
    for (const sid of ['s1', 's2']) {
      await store.sessions.create({ id: sid, appName: 'a', userId: 'carol' });
      await store.sessions.appendEvents(sid, [{ event: `${sid}-1` }, { event: `${sid}-2` }, { event: `${sid}-3` }]);
    }
    const page = await store.sessions.listByUser('carol', { lastEvents: 2 });
    expect(Object.fromEntries(page.items.map((s) => [s.id, s.events]))).toEqual({ s1: ['s1-2', 's1-3'], s2: ['s2-2', 's2-3'] });
    // Without lastEvents a list carries no events: a page must not read every session's log.
    expect((await store.sessions.listByUser('carol')).items.map((s) => [s.events.length, s.eventCount])).toEqual([[0, 3], [0, 3]]);
    await store.sessions.delete('s1');
    expect(await store.sessions.events('s1')).toEqual({ items: [], nextCursor: undefined });
    expect((await store.sessions.events('s2')).items).toHaveLength(3);
  });

  it('rejects bad events and options before anything is queued', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const bad: [() => Promise<unknown>, string][] = [
      [() => store.sessions.appendEvent(id, 1, { eventId: '' }), 'eventId must not be empty'],
      [() => store.sessions.appendEvent(id, 1, { eventID: 'x' } as never), 'misspelled option "eventID" should be "eventId"'],
      [() => store.sessions.appendEvents(id, []), 'events must hold 1 to 1000 events, got 0'],
      [() => store.sessions.appendEvents(id, Array.from({ length: 1001 }, () => ({ event: 1 }))), 'got 1001'],
      [() => store.sessions.appendEvents(id, 'nope' as never), 'events must be an array'],
      [() => store.sessions.appendEvents(id, [1] as never), 'events[0] must be an object like { event, eventId? }'],
      [() => store.sessions.appendEvents(id, [{ event: 1 }, {}] as never), 'events[1].event is undefined'],
      [() => store.sessions.appendEvents(id, [{ event: 1, id: 'x' }] as never), 'events[0] has an unknown option "id"'],
      [() => store.sessions.appendEvents(id, [{ event: () => 1 }] as never), 'events[0].event is function'],
      [() => store.sessions.trimEvents(id, { keepLast: -1 }), 'keepLast must be an integer'],
    ];
    for (const [call, message] of bad) {
      await expect(call()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) });
    }
    expect((await store.sessions.get(id))?.eventCount).toBe(0);
    expect(await auditActions(store)).toEqual(['session_create']);
  });
});

describe('event-log statements', () => {
  // The plan test fails only on scans and temp B-trees; these must also use the right
  // index, or a lookup would read a whole session's log and still pass.
  it('look an eventId up through its index and read ranges of the primary key', () => {
    const db = populatedDatabase();
    const sql = (operation: string, statement: string): string =>
      specOf(operations.find((op) => op.name === operation)!.statements[statement]!).sql;
    for (const operation of ['sessions.appendEvent', 'sessions.appendEvents', 'adk.sessions.appendEvent']) {
      const plan = explain(db, sql(operation, operation.startsWith('adk') ? 'existing' : 'byEventId')).join(' ');
      expect(plan, operation).toMatch(/SEARCH session_events USING (COVERING )?INDEX idx_session_events_event_id \(session_id=\? AND event_id=\?\)/);
      expect(plan, operation).toMatch(/SEARCH session_trimmed_event_ids USING PRIMARY KEY \(session_id=\? AND event_id=\?\)/);
    }
    for (const [operation, statement] of [
      ['sessions.get', 'first'],
      ['sessions.get', 'texts'],
      ['sessions.events', 'asc'],
      ['sessions.events', 'desc'],
      // Only the trimmed range, not every id the session has.
      ['sessions.trimEvents', 'keepIds'],
      ['sessions.trimEvents', 'delete'],
      ['sessions.trimEvents', 'first'],
    ] as const) {
      expect(explain(db, sql(operation, statement)).join(' '), `${operation}.${statement}`).toMatch(
        /SEARCH session_events USING (COVERING )?INDEX sqlite_autoindex_session_events_1 \(session_id=\?/,
      );
    }
  });
});
