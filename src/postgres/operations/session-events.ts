import { StoreError } from '../../api/errors.js';
import type { AuditContext, Timestamp } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import { defineTable } from '../../catalogue/table.js';
import {
  checkStateBytes,
  planAppend,
  sessionMiss,
  sessionsAppendEvent,
  sessionsAppendEvents,
  sessionsEvents,
  sessionsTrimEvents,
  type EventRow,
  type SessionVersion,
} from '../../catalogue/session-events.js';
import { implement, RetryTransaction, type PgQueries } from '../operation.js';
import { isUniqueViolation } from './conflict.js';
import { heldCondition, heldParams, NOW, REPLACEMENTS } from './sql.js';

// The event log: rows of session_events, (session_id, seq) their primary key. An append
// updates the session row first: its row lock orders the appends to one session, on any
// host, and the new event_count is the next seq, so nothing reads the log to number an
// event. A caller's eventId is looked up first, among the kept events and the ids of
// trimmed ones. Two appends of one id racing past that lookup meet at UNIQUE (session_id,
// event_id), and the loser runs again and finds it. An append whose lookup ran before a
// trim moved its id away (the first append committed, then was trimmed, while the retry
// waited for the session's row) inserts nothing for that id: the insert skips ids found
// trimmed by then, the count comes up short, and the retry runs again and finds it.

// The shapes of the rows these statements return, decoded by name as the tables are.
/** A session's count and time; after an append, with its state's size (0 when no delta merged). */
const COUNTED = defineTable('sessions', { eventCount: 'integer', lastUpdateTime: 'time' });
const APPENDED = defineTable('sessions', {
  eventCount: 'integer',
  lastUpdateTime: 'time',
  stateBytes: { kind: 'integer', column: 'CASE WHEN $3::jsonb IS NULL THEN 0 ELSE octet_length(state::text) END' },
});
/** An event id already taken, kept or trimmed, and its seq. */
const TAKEN_ID = defineTable('session_events', { eventId: 'text', seq: 'integer' });

const APPEND_STATEMENTS = {
  byEventId:
    'SELECT seq FROM session_events WHERE session_id = $1 AND event_id = $2 ' +
    'UNION ALL SELECT seq FROM session_trimmed_event_ids WHERE session_id = $1 AND event_id = $2 LIMIT 1',
  byEventIds:
    `SELECT ${TAKEN_ID.columns} FROM session_events WHERE session_id = $1 AND event_id = ANY ($2::text[]) ` +
    `UNION ALL SELECT ${TAKEN_ID.columns} FROM session_trimmed_event_ids WHERE session_id = $1 AND event_id = ANY ($2::text[])`,
  current: `SELECT ${COUNTED.columns} FROM sessions WHERE id = $1`,
  // Events without ids, in one statement: the count raised and the state merged, then
  // the events inserted at seq first, first + 1, … (first = the new count - $2 + 1) in the
  // array's order. Returns what \`update\` returns; no row when the session is missing or
  // closed. Not for events with ids: the check against trimmed ids must see a trim
  // committed while the update waited for the session's row, and one statement keeps the
  // snapshot it started with (those take update, then insert).
  append:
    'WITH u AS (UPDATE sessions SET event_count = event_count + $2, ' +
    'state = CASE WHEN $3::jsonb IS NULL THEN state ELSE jsonb_merge_patch(state, $3::jsonb) END, ' +
    `last_update_time = ${NOW} ` +
    "WHERE id = $1 AND status IN ('created', 'active', 'paused') " +
    `RETURNING ${APPENDED.columns}), ` +
    'i AS (INSERT INTO session_events (session_id, seq, event, created_at) ' +
    'SELECT $1, u.event_count - $2::int + x.n, x.event::jsonb, u.last_update_time ' +
    'FROM u, unnest($4::text[]) WITH ORDINALITY AS x(event, n)) ' +
    'SELECT u.* FROM u',
  update:
    'UPDATE sessions SET event_count = event_count + $2, ' +
    'state = CASE WHEN $3::jsonb IS NULL THEN state ELSE jsonb_merge_patch(state, $3::jsonb) END, ' +
    `last_update_time = ${NOW} ` +
    "WHERE id = $1 AND status IN ('created', 'active', 'paused') " +
    `RETURNING ${APPENDED.columns}`,
  // One statement for any number of events: seq $2, $2 + 1, … in the arrays' order; the
  // number inserted, which falls short only when an id was trimmed since the lookup.
  insert:
    'WITH i AS (INSERT INTO session_events (session_id, seq, event_id, event, created_at) ' +
    'SELECT $1, $2 + x.n - 1, x.event_id, x.event::jsonb, $3::timestamptz ' +
    'FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS x(event, event_id, n) ' +
    'WHERE NOT EXISTS (SELECT 1 FROM session_trimmed_event_ids t WHERE t.session_id = $1 AND t.event_id = x.event_id) ' +
    'RETURNING 1) SELECT count(*)::int FROM i',
  status: 'SELECT status FROM sessions WHERE id = $1',
} as const;

type AppendQueries = PgQueries<typeof APPEND_STATEMENTS>;

interface Appended {
  eventCount: number;
  lastUpdateTime: Timestamp;
}

/** Counts, merges and inserts `events` (texts and ids, in order); the first seq they took. */
async function append(
  q: AppendQueries,
  id: string,
  events: readonly (readonly [event: string, eventId: string | null])[],
  stateDelta: string | null,
  maxStateBytes: number,
  action: string,
): Promise<Appended & { first: number }> {
  if (events.every((e) => e[1] === null)) {
    const row = await q.one('append', [id, events.length, stateDelta, events.map((e) => e[0])]);
    if (row === undefined) throw sessionMiss(await q.value('status', [id]), id, action);
    const { eventCount, lastUpdateTime, stateBytes } = APPENDED.decode(row);
    // The throw rolls the count, the merge and the events back: nothing is written.
    checkStateBytes(id, stateBytes, maxStateBytes);
    return { eventCount, lastUpdateTime, first: eventCount - events.length + 1 };
  }
  const row = await q.one('update', [id, events.length, stateDelta]);
  if (row === undefined) throw sessionMiss(await q.value('status', [id]), id, action);
  const { eventCount, lastUpdateTime, stateBytes } = APPENDED.decode(row);
  // The throw rolls the count and the merge back: nothing is written.
  checkStateBytes(id, stateBytes, maxStateBytes);
  const first = eventCount - events.length + 1;
  let inserted: number;
  try {
    inserted = (await q.value('insert', [id, first, lastUpdateTime, events.map((e) => e[0]), events.map((e) => e[1])])) as number;
  } catch (error) {
    if (isUniqueViolation(error)) throw new RetryTransaction(`an eventId of session ${id} was appended concurrently`);
    throw error;
  }
  if (inserted !== events.length) throw new RetryTransaction(`an eventId of session ${id} was trimmed since it was looked up`);
  return { eventCount, lastUpdateTime, first };
}

async function current(q: AppendQueries, id: string): Promise<Appended> {
  return COUNTED.decode((await q.one('current', [id]))!);
}

export const pgSessionsAppendEvent = implement(sessionsAppendEvent, {
  statements: APPEND_STATEMENTS,
  async run(q, [id, event, eventId, stateDelta, maxStateBytes, ctx]) {
    if (eventId !== null) {
      const seq = (await q.value('byEventId', [id, eventId])) as number | undefined;
      // Already appended (a retry): the first append's seq, and nothing changes.
      if (seq !== undefined) return { seq, ...(await current(q, id)) };
    }
    const { eventCount, lastUpdateTime, first } = await append(q, id, [[event, eventId]], stateDelta, maxStateBytes, 'append an event to');
    await q.audit(ctx, { action: 'session_append_event', data: { sessionId: id, seq: first, stateDelta: stateDelta !== null } });
    return { seq: first, eventCount, lastUpdateTime };
  },
});

export const pgSessionsAppendEvents = implement(sessionsAppendEvents, {
  statements: APPEND_STATEMENTS,
  async run(q, [id, events, stateDelta, maxStateBytes, ctx]) {
    const ids = events.map((e) => e[1]).filter((eventId): eventId is string => eventId !== null);
    const known = new Map<string, number>();
    if (ids.length > 0) {
      for (const row of await q.all('byEventIds', [id, ids])) {
        const { eventId, seq } = TAKEN_ID.decode(row);
        known.set(eventId, seq);
      }
    }
    // Where the SQLite engine looks each id up (a local index probe), here one statement
    // looks up all of them: a round trip each would cost more than the lookups.
    const { seqs, fresh, repeats } = planAppend(events, (eventId) => known.get(eventId));
    // Every event already appended (a retried batch): nothing changes, the state delta included.
    if (fresh.length === 0) return { seqs, ...(await current(q, id)) };
    const appended = await append(q, id, fresh.map((i) => events[i]!), stateDelta, maxStateBytes, 'append events to');
    fresh.forEach((i, k) => {
      seqs[i] = appended.first + k;
    });
    for (const [i, of] of repeats) seqs[i] = seqs[of]!;
    await q.audit(ctx, {
      action: 'session_append_events',
      data: { sessionId: id, firstSeq: appended.first, count: fresh.length, stateDelta: stateDelta !== null },
    });
    return { seqs, eventCount: appended.eventCount, lastUpdateTime: appended.lastUpdateTime };
  },
});

/** A page's event, with the version of its session (src/catalogue/session-events.ts) on each row. */
const PAGE_ROW = defineTable('session_events', {
  seq: { kind: 'integer', column: 'e.seq' },
  eventId: { kind: 'text?', column: 'e.event_id' },
  // Without its text where the caller holds it ($5 to $6 of the version $7-$9).
  event: { kind: 'text?', column: `CASE WHEN ${heldCondition('e.seq', 5)} THEN NULL ELSE e.event END` },
  createdAt: { kind: 'time', column: 'e.created_at' },
  rowid: { kind: 'integer', column: 's.rowid' },
  sessionCreatedAt: { kind: 'time', column: 's.created_at' },
  replacements: { kind: 'integer', column: 'v.replacements' },
});

// One statement, one snapshot: the session's version and the page of its events.
const eventPage = (direction: 'ASC' | 'DESC'): string =>
  `SELECT ${PAGE_ROW.columns} FROM sessions AS s CROSS JOIN LATERAL (SELECT ${REPLACEMENTS}) AS v ` +
  'CROSS JOIN LATERAL (SELECT e.seq, e.event_id, e.event, e.created_at FROM session_events AS e ' +
  `WHERE e.session_id = s.id AND e.seq > $2::bigint AND e.seq < $3::bigint ORDER BY e.seq ${direction} LIMIT $4) AS e ` +
  `WHERE s.id = $1 ORDER BY e.seq ${direction}`;

export const pgSessionsEvents = implement(sessionsEvents, {
  statements: {
    // Bigint bounds: "no bound" is past what the int column holds.
    asc: eventPage('ASC'),
    desc: eventPage('DESC'),
  },
  async run(q, [id, after, before, limit, order, held]) {
    const rows = (await q.all(order, [id, after, before, limit + 1, ...heldParams(held)])).map(PAGE_ROW.decode);
    const first = rows[0];
    const version: SessionVersion | null = first === undefined ? null : [first.rowid, first.sessionCreatedAt, first.replacements];
    const page = toPage(rows, limit, ({ seq, eventId, event, createdAt }): EventRow => ({ seq, eventId, event, createdAt }), (event) => [order, event.seq]);
    return { ...page, version };
  },
});

export const pgSessionsTrimEvents = implement(sessionsTrimEvents, {
  statements: {
    // Locked, so the count is the one the cut is made against.
    count: 'SELECT event_count FROM sessions WHERE id = $1 FOR UPDATE',
    // The events go; their ids stay, with their seqs, so a retry of their appends still
    // finds them.
    delete:
      'WITH d AS (DELETE FROM session_events WHERE session_id = $1 AND seq <= $2 RETURNING event_id, seq), ' +
      'k AS (INSERT INTO session_trimmed_event_ids (session_id, event_id, seq) SELECT $1, event_id, seq FROM d WHERE event_id IS NOT NULL) ' +
      'SELECT count(*)::int FROM d',
    first: 'SELECT seq FROM session_events WHERE session_id = $1 ORDER BY seq LIMIT 1',
  },
  async run(q, [id, keepLast, ctx]: readonly [string, number, AuditContext | undefined]) {
    const eventCount = (await q.value('count', [id])) as number | undefined;
    if (eventCount === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    // Events are numbered 1..eventCount; those at or below the cut go, whatever was trimmed before.
    const cut = eventCount - keepLast;
    const deleted = cut > 0 ? ((await q.value('delete', [id, cut])) as number) : 0;
    const firstSeq = ((await q.value('first', [id])) as number | undefined) ?? null;
    await q.audit(ctx, { action: 'session_trim_events', data: { sessionId: id, keepLast, deleted, firstSeq } });
    return { deleted, firstSeq, eventCount };
  },
});

export const pgSessionEventOperations = [pgSessionsAppendEvent, pgSessionsAppendEvents, pgSessionsEvents, pgSessionsTrimEvents];
