import type { Statement } from 'better-sqlite3';
import { StoreError } from '../api/errors.js';
import type { AppendedEvent, AppendedEvents, AuditContext, EventOrder, JsonObject, Page, SessionInfo, SessionStatus, Timestamp, TrimmedEvents } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw, type WireCodec } from './operation.js';
import { defineTable, type RawRow, type RowOf } from './table.js';
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

// A session's newest n events, read newest first along the key and put back in order
// (the lists' form: the events of each session listed).
export const LAST_EVENTS = pluck('SELECT event FROM session_events WHERE session_id = ? ORDER BY seq DESC LIMIT ?');

/**
 * Which stored session a read's events belong to: its row (rowid and creation time: a
 * session deleted and created again under the same id is another row) and how many of its
 * events ADK's adapter replaced where they stood (adk_sessions.replacements; 0 for a
 * session that is not ADK's). An event, once written, is the same while these are: only a
 * trim removes events, and it removes the oldest, never changing one that stays.
 *
 * PostgreSQL never gives a rowid twice. SQLite may give the rowid of the last session
 * created to the next one once it is deleted; the creation time (milliseconds) then tells
 * them apart, unless another process deletes the session and creates it again within the
 * same millisecond, and appends at least as many events as a reader holds, before that
 * reader reads again (this process's own delete drops what it holds at once, and what its
 * reads in flight would keep or take: src/services/session-events-cache.ts). A column
 * made for it (a random id per creation) would close that; it needs a migration.
 */
export type SessionVersion = readonly [rowid: number, createdAt: Timestamp, replacements: number];

/**
 * The events of a session a caller holds decoded: seqs `from` to `to` of the session as of
 * `version`. A read sends no text for an event in that range when the session is still at
 * that version (and has at least `to` events): the caller decodes only what it lacks.
 */
export type HeldEvents = readonly [version: SessionVersion, from: number, to: number];

/** The range of seqs a read may leave out (an empty one, 1 to 0, when the caller holds none of this version). */
export function heldRange(held: HeldEvents | null | undefined, version: SessionVersion, eventCount: number): readonly [from: number, to: number] {
  if (held == null) return NONE_HELD;
  const [[rowid, createdAt, replacements], from, to] = held;
  const same = rowid === version[0] && createdAt === version[1] && replacements === version[2] && to <= eventCount;
  return same ? [from, to] : NONE_HELD;
}
const NONE_HELD = [1, 0] as const;

/** How many of a session's events (`alias`: the sessions table's name or alias) ADK's adapter replaced: part of its version. */
export const replacementsOf = (alias: string): string =>
  `coalesce((SELECT a.replacements FROM adk_sessions AS a WHERE a.session_id = ${alias}.id), 0)`;

/**
 * The events a session read returns, seqs `first` to `first + before.length + held +
 * after.length - 1`, as JSON texts but for the `held` in the middle, which the caller said
 * it holds decoded ({@link HeldEvents}). A session's events are always consecutive seqs, from
 * its oldest kept (a trim removes the oldest) to its event count (each append takes the
 * next), so a range says which events a read has. The caller's thread decodes them
 * (src/services/session-events-cache.ts).
 */
export interface EventRange {
  first: number;
  before: string[];
  held: number;
  after: string[];
}

/** A session read with the texts of its events: what sessions.get returns on the wire. */
export interface StoredSession extends EventRange {
  session: SessionInfo;
  version: SessionVersion;
}

/** The values STORED_SESSION_WIRE puts before the texts. */
const STORED_SESSION_FIELDS = 18;

/**
 * A session read as it crosses to the caller's thread: one flat array, the session's fields
 * in their order, its version, `first`, `held`, how many texts `before` has, then the texts
 * of `before` and of `after`. A long one is paged as any long array is (src/sqlite/protocol.ts).
 */
export const STORED_SESSION_WIRE: WireCodec<StoredSession> = {
  pack: ({ session: s, version, first, before, held, after }) => {
    const packed: unknown[] = [
      s.id, s.appName, s.userId, s.projectId, s.status, s.eventCount, s.state, s.metadata,
      s.createdAt, s.lastUpdateTime, s.terminatedAt, s.archivedAt,
      version[0], version[1], version[2], first, held, before.length,
    ];
    for (const text of before) packed.push(text);
    for (const text of after) packed.push(text);
    return packed;
  },
  unpack: (p) => {
    const split = STORED_SESSION_FIELDS + (p[STORED_SESSION_FIELDS - 1] as number);
    return {
      session: {
        id: p[0] as string,
        appName: p[1] as string,
        userId: p[2] as string,
        projectId: p[3] as string | null,
        status: p[4] as SessionStatus,
        eventCount: p[5] as number,
        state: p[6] as JsonObject,
        metadata: p[7] as JsonObject | null,
        createdAt: p[8] as Timestamp,
        lastUpdateTime: p[9] as Timestamp,
        terminatedAt: p[10] as Timestamp | null,
        archivedAt: p[11] as Timestamp | null,
      },
      version: [p[12] as number, p[13] as Timestamp, p[14] as number],
      first: p[15] as number,
      before: p.slice(STORED_SESSION_FIELDS, split) as string[],
      held: p[16] as number,
      after: p.slice(split) as string[],
    };
  },
};

/**
 * Where a read of a session's newest `lastEvents` events (null: all) splits them, given the
 * oldest seq kept (null: none) and its event count: from `first`, the texts of those before
 * `heldFrom`, then those from `heldFrom` to `heldTo` held (none when `heldTo < heldFrom`),
 * then the texts of those after `heldTo`, up to the event count.
 */
export function splitEvents(
  lastEvents: number | null,
  firstSeq: number | null,
  eventCount: number,
  [from, to]: readonly [number, number],
): { first: number; heldFrom: number; heldTo: number } {
  const first = Math.max(firstSeq ?? eventCount + 1, lastEvents === null ? 1 : eventCount - lastEvents + 1);
  const heldFrom = Math.max(first, from);
  // The caller holds at most up to the event count (heldRange checked it).
  return heldFrom <= to ? { first, heldFrom, heldTo: to } : { first, heldFrom: eventCount + 1, heldTo: eventCount };
}

/** The oldest event a session keeps: a trim moves it. */
export const FIRST_SEQ = pluck('SELECT seq FROM session_events WHERE session_id = ? ORDER BY seq LIMIT 1');
/** The texts of a range of a session's events, in seq order. */
export const EVENT_TEXTS = pluck('SELECT event FROM session_events WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq');

/** The events of a session read ({@link EventRange}): at most two ranges of the primary key, none for what is held. */
export function eventRangeOf(
  st: { readonly first: Statement; readonly texts: Statement },
  id: string,
  lastEvents: number | null,
  eventCount: number,
  held: readonly [number, number],
): EventRange {
  if (lastEvents === 0) return { first: eventCount + 1, before: [], held: 0, after: [] };
  const firstSeq = (st.first.get(id) as number | undefined) ?? null;
  const { first, heldFrom, heldTo } = splitEvents(lastEvents, firstSeq, eventCount, held);
  const texts = (low: number, high: number): string[] => (low > high ? [] : (st.texts.all(id, low, high) as string[]));
  return { first, before: texts(first, heldFrom - 1), held: heldTo - heldFrom + 1, after: texts(heldTo + 1, eventCount) };
}

/** An event's text, or NULL when the caller holds it: seq within [@from, @to]. */
const EVENT_OR_HELD = 'CASE WHEN seq BETWEEN @from AND @to THEN NULL ELSE event END';

/** One event of a page as a read returns it: its JSON text null where the caller holds it decoded. */
export const EVENT_ROW = defineTable('session_events', {
  seq: 'integer',
  eventId: 'text?',
  event: { kind: 'text?', column: EVENT_OR_HELD },
  createdAt: 'time',
});
export type EventRow = RowOf<typeof EVENT_ROW>;

/** A page of a session's events as sessions.events returns it on the wire; `version` null when the page is empty. */
export interface EventRowsPage extends Page<EventRow> {
  version: SessionVersion | null;
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

/** Where sessions.events finds a session's version, and its event count. */
const SESSION_VERSION = defineTable('sessions', {
  rowid: 'integer',
  createdAt: 'time',
  replacements: { kind: 'integer', column: replacementsOf('sessions') },
  eventCount: 'integer',
});

export const sessionsEvents = defineOperation({
  name: 'sessions.events',
  kind: 'read',
  statements: {
    version: raw(`SELECT ${SESSION_VERSION.columns} FROM sessions WHERE id = ?`),
    asc: raw(`SELECT ${EVENT_ROW.columns} FROM session_events WHERE session_id = @id AND seq > @after AND seq < @before ORDER BY seq LIMIT @limit`),
    desc: raw(
      `SELECT ${EVENT_ROW.columns} FROM session_events WHERE session_id = @id AND seq > @after AND seq < @before ORDER BY seq DESC LIMIT @limit`,
    ),
  },
  run(
    { st },
    [id, after, before, limit, order, held]: readonly [string, number, number, number, EventOrder, HeldEvents | null],
  ): EventRowsPage {
    // A session that does not exist has no events.
    const found = st.version.get(id) as RawRow | undefined;
    if (found === undefined) return { items: [], nextCursor: undefined, version: null };
    const { rowid, createdAt, replacements, eventCount } = SESSION_VERSION.decode(found);
    const version: SessionVersion = [rowid, createdAt, replacements];
    const [from, to] = heldRange(held, version, eventCount);
    const rows = st[order].all({ id, after, before, limit: limit + 1, from, to }) as RawRow[];
    return { ...toPage(rows, limit, EVENT_ROW.decode, (event) => [order, event.seq]), version };
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
