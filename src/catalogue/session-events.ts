import type { Statement } from 'better-sqlite3';
import { StoreError } from '../api/errors.js';
import type {
  AppendedEvent,
  AppendedEvents,
  AuditContext,
  EventOrder,
  Page,
  SessionEvent,
  Timestamp,
  TrimmedEvents,
} from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import type { RawRow } from './table.js';
import { SESSION_EVENTS } from './tables.js';
import { NOW } from './sql.js';

// The event log: rows of session_events, (session_id, seq) their primary key. Every
// statement here is a point or a range of that key (or of the event-id index, or of the
// key of trimmed events' ids), so no operation's cost grows with the length of a log it
// does not return.

export const SESSION_STATUS = pluck('SELECT status FROM sessions WHERE id = ?');

/** Why a write to a session matched no row: it is missing, or its status forbids the write. */
export function sessionMiss(status: unknown, id: string, action: string): StoreError {
  return status === undefined
    ? new StoreError('NOT_FOUND', `session ${id} does not exist`)
    : new StoreError('INVALID_STATE', `cannot ${action} session ${id}: it is ${status as string}`);
}

// A session's events, oldest first: all of them (the costly form: it reads the whole
// log), or the newest n, read newest first along the key and put back in order.
export const ALL_EVENTS = pluck('SELECT event FROM session_events WHERE session_id = ? ORDER BY seq');
export const LAST_EVENTS = pluck('SELECT event FROM session_events WHERE session_id = ? ORDER BY seq DESC LIMIT ?');

export function eventsOf(st: { readonly all: Statement; readonly last: Statement }, id: string, lastEvents: number | null): string[] {
  if (lastEvents === null) return st.all.all(id) as string[];
  if (lastEvents === 0) return [];
  return (st.last.all(id, lastEvents) as string[]).reverse();
}

/**
 * The seq an eventId took in its session, or none when the id is new: among the kept
 * events (idx_session_events_event_id), else among the ids of trimmed ones (their table's
 * key). A retried append finds its first seq here whether or not its event was trimmed since.
 */
export const SEQ_OF_EVENT_ID = pluck(
  'SELECT seq FROM session_events WHERE session_id = @session AND event_id = @eventId ' +
    'UNION ALL SELECT seq FROM session_trimmed_event_ids WHERE session_id = @session AND event_id = @eventId LIMIT 1',
);

// An append is one UPDATE of the session row (count, state merge, time) and one INSERT per
// event, numbered from the new count: event_count is the last seq, so nothing reads the
// log to number an event. The caller's eventId is looked up first; a retried append finds
// its first seq there.
const APPEND_STATEMENTS = {
  byEventId: SEQ_OF_EVENT_ID,
  update:
    'UPDATE sessions SET event_count = event_count + @n, ' +
    'state = CASE WHEN @delta IS NULL THEN state ELSE json_patch(state, @delta) END, ' +
    `last_update_time = ${NOW} ` +
    "WHERE id = @id AND status IN ('created', 'active', 'paused') " +
    'RETURNING event_count AS eventCount, last_update_time AS lastUpdateTime, ' +
    'CASE WHEN @delta IS NULL THEN 0 ELSE octet_length(state) END AS stateBytes',
  insert: 'INSERT INTO session_events (session_id, seq, event_id, event, created_at) VALUES (?, ?, ?, ?, ?)',
  current: 'SELECT event_count AS eventCount, last_update_time AS lastUpdateTime FROM sessions WHERE id = ?',
  status: SESSION_STATUS,
  audit: AUDIT_INSERT,
} as const;

interface SessionCount {
  eventCount: number;
  lastUpdateTime: Timestamp;
}

/**
 * Refuses a state merged past `maxStateBytes`. Only the writer knows the merged size, so
 * this runs mid-operation, after the merge: the throw fails the operation and all it did
 * is undone (its savepoint; on the batch's optimistic first run, which has none, the
 * batch's rollback and replay; on PostgreSQL, the call's transaction), so nothing is written.
 */
export function checkStateBytes(id: string, bytes: number, maxStateBytes: number): void {
  if (bytes > maxStateBytes) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `the state delta would make session ${id}'s state ${bytes} bytes, over the ${maxStateBytes}-byte limit (maxStateBytes); nothing was written`,
    );
  }
}

type Appended = SessionCount & { stateBytes: number };

export const sessionsAppendEvent = defineOperation({
  name: 'sessions.appendEvent',
  kind: 'write',
  statements: APPEND_STATEMENTS,
  run(
    { st },
    [id, event, eventId, stateDelta, maxStateBytes, ctx]: readonly [
      string,
      string,
      string | null,
      string | null,
      number,
      AuditContext | undefined,
    ],
  ): AppendedEvent {
    if (eventId !== null) {
      const seq = st.byEventId.get({ session: id, eventId }) as number | undefined;
      // Already appended (a retry): the first append's seq, and nothing changes.
      if (seq !== undefined) return { seq, ...(st.current.get(id) as SessionCount) };
    }
    const row = st.update.get({ n: 1, delta: stateDelta, id }) as Appended | undefined;
    if (row === undefined) throw sessionMiss(st.status.get(id), id, 'append an event to');
    checkStateBytes(id, row.stateBytes, maxStateBytes);
    st.insert.run(id, row.eventCount, eventId, event, row.lastUpdateTime);
    writeAudit(st.audit, ctx, {
      action: 'session_append_event',
      data: { sessionId: id, seq: row.eventCount, stateDelta: stateDelta !== null },
    });
    return { seq: row.eventCount, eventCount: row.eventCount, lastUpdateTime: row.lastUpdateTime };
  },
});

/** One event of a batch on the wire: its JSON text and the caller's id, if any. */
export type EventArg = readonly [event: string, eventId: string | null];

/** How a batch of events is appended: see {@link planAppend}. */
export interface AppendPlan {
  /** Each event's seq, so far: those whose id the session already holds. */
  seqs: number[];
  /** The events to append, by index, in order. */
  fresh: number[];
  /** [index, of]: an event whose id an earlier event of this batch has; it takes that one's seq. */
  repeats: [index: number, of: number][];
}

/**
 * Sorts a batch of events (both engines run this, each with its own lookup): an event whose
 * id the session already holds (`known`: its seq, kept or trimmed) takes that seq; one whose
 * id an earlier event of the batch has takes that event's; the rest are appended in order.
 */
export function planAppend(events: readonly EventArg[], known: (eventId: string) => number | undefined): AppendPlan {
  const seqs = new Array<number>(events.length);
  const fresh: number[] = [];
  const firstWithId = new Map<string, number>();
  const repeats: [index: number, of: number][] = [];
  for (let i = 0; i < events.length; i++) {
    const eventId = events[i]![1];
    if (eventId !== null) {
      const seq = known(eventId);
      if (seq !== undefined) {
        seqs[i] = seq;
        continue;
      }
      const earlier = firstWithId.get(eventId);
      if (earlier !== undefined) {
        repeats.push([i, earlier]);
        continue;
      }
      firstWithId.set(eventId, i);
    }
    fresh.push(i);
  }
  return { seqs, fresh, repeats };
}

export const sessionsAppendEvents = defineOperation({
  name: 'sessions.appendEvents',
  kind: 'write',
  statements: APPEND_STATEMENTS,
  run(
    { st },
    [id, events, stateDelta, maxStateBytes, ctx]: readonly [
      string,
      readonly EventArg[],
      string | null,
      number,
      AuditContext | undefined,
    ],
  ): AppendedEvents {
    // One lookup per id, by the (session, event id) index.
    const { seqs, fresh, repeats } = planAppend(events, (eventId) => st.byEventId.get({ session: id, eventId }) as number | undefined);
    // Every event already appended (a retried batch): nothing changes, the state delta included.
    if (fresh.length === 0) return { seqs, ...(st.current.get(id) as SessionCount) };
    const row = st.update.get({ n: fresh.length, delta: stateDelta, id }) as Appended | undefined;
    if (row === undefined) throw sessionMiss(st.status.get(id), id, 'append events to');
    checkStateBytes(id, row.stateBytes, maxStateBytes);
    const first = row.eventCount - fresh.length + 1;
    fresh.forEach((i, k) => {
      const [event, eventId] = events[i]!;
      st.insert.run(id, first + k, eventId, event, row.lastUpdateTime);
      seqs[i] = first + k;
    });
    for (const [i, of] of repeats) seqs[i] = seqs[of]!;
    writeAudit(st.audit, ctx, {
      action: 'session_append_events',
      data: { sessionId: id, firstSeq: first, count: fresh.length, stateDelta: stateDelta !== null },
    });
    return { seqs, eventCount: row.eventCount, lastUpdateTime: row.lastUpdateTime };
  },
});

export const sessionsEvents = defineOperation({
  name: 'sessions.events',
  kind: 'read',
  statements: {
    asc: raw(
      `SELECT ${SESSION_EVENTS.columns} FROM session_events WHERE session_id = @id AND seq > @after AND seq < @before ORDER BY seq LIMIT @limit`,
    ),
    desc: raw(
      `SELECT ${SESSION_EVENTS.columns} FROM session_events WHERE session_id = @id AND seq > @after AND seq < @before ORDER BY seq DESC LIMIT @limit`,
    ),
  },
  run(
    { st },
    [id, after, before, limit, order]: readonly [string, number, number, number, EventOrder],
  ): Page<SessionEvent> {
    const rows = st[order].all({ id, after, before, limit: limit + 1 }) as RawRow[];
    return toPage(rows, limit, SESSION_EVENTS.decode, (event) => [order, event.seq]);
  },
});

export const sessionsTrimEvents = defineOperation({
  name: 'sessions.trimEvents',
  kind: 'write',
  statements: {
    count: pluck('SELECT event_count FROM sessions WHERE id = ?'),
    // The ids of the events about to go, with their seqs: a retry of their appends must
    // still find them (SEQ_OF_EVENT_ID). A range of the primary key: `+event_id` keeps
    // SQLite off the event-id index, which would read every id the session has.
    keepIds:
      'INSERT INTO session_trimmed_event_ids (session_id, event_id, seq) ' +
      'SELECT session_id, event_id, seq FROM session_events WHERE session_id = ? AND seq <= ? AND +event_id IS NOT NULL',
    delete: 'DELETE FROM session_events WHERE session_id = ? AND seq <= ?',
    first: pluck('SELECT seq FROM session_events WHERE session_id = ? ORDER BY seq LIMIT 1'),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, keepLast, ctx]: readonly [string, number, AuditContext | undefined]): TrimmedEvents {
    const eventCount = st.count.get(id) as number | undefined;
    if (eventCount === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    // Events are numbered 1..eventCount; those at or below the cut go, whatever was trimmed before.
    const cut = eventCount - keepLast;
    let deleted = 0;
    if (cut > 0) {
      st.keepIds.run(id, cut);
      deleted = st.delete.run(id, cut).changes;
    }
    const firstSeq = (st.first.get(id) as number | undefined) ?? null;
    writeAudit(st.audit, ctx, { action: 'session_trim_events', data: { sessionId: id, keepLast, deleted, firstSeq } });
    return { deleted, firstSeq, eventCount };
  },
});

export const sessionEventOperations = [sessionsAppendEvent, sessionsAppendEvents, sessionsEvents, sessionsTrimEvents];
