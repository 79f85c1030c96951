import { StoreError } from '../api/errors.js';
import type { Statement } from 'better-sqlite3';
import type { AuditContext } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { defineOperation, pluck, raw } from './operation.js';
import { checkStateBytes, LAST_EVENTS, SEQ_OF_EVENT_ID } from './session-events.js';
import { conflictOnDuplicate, NOW } from './sql.js';
import { defineTable, type RawRow } from './table.js';

// Operations of the Google ADK adapter (src/adk/). An ADK session is a store session (a
// sessions row holding its session-scoped state, its events as session_events rows) plus an
// adk_sessions row: ADK's key (app, user, session id), its lastUpdateTime in epoch
// milliseconds and a version bumped by every append. app: and user: state have their own
// tables. Everything here is SQL and plain values: the adapter turns them into ADK objects,
// so neither worker ever loads @google/adk.

/**
 * `target` with the top-level keys of the JSON object `delta` set to delta's values: ADK's
 * state delta semantics, where a value replaces the key's value whole (an object is not
 * merged into the old one, null is stored as null). json_patch would do neither. Each value
 * keeps its JSON type: json_each gives true/false as 1/0 and nested values as text.
 */
export const assignKeys = (target: string, delta: string): string =>
  '(SELECT json_group_object(key, CASE type ' +
  "WHEN 'true' THEN json('true') WHEN 'false' THEN json('false') " +
  "WHEN 'object' THEN json(value) WHEN 'array' THEN json(value) ELSE value END) FROM (" +
  `SELECT key, value, type FROM json_each(${target}) WHERE key NOT IN (SELECT key FROM json_each(${delta})) ` +
  `UNION ALL SELECT key, value, type FROM json_each(${delta})))`;

// Each returns the merged state and its size, which maxStateBytes bounds as it bounds a
// session's own state.
const MERGED_SCOPE = defineTable('adk_app_states', { state: 'text', stateBytes: { kind: 'integer', column: 'octet_length(state)' } });
const MERGE_APP_STATE = raw(
  'INSERT INTO adk_app_states (app_name, state) VALUES (@app, @delta) ON CONFLICT (app_name) DO UPDATE SET ' +
    `state = ${assignKeys('adk_app_states.state', '@delta')}, updated_at = ${NOW} RETURNING ${MERGED_SCOPE.columns}`,
);
const MERGE_USER_STATE = raw(
  'INSERT INTO adk_user_states (app_name, user_id, state) VALUES (@app, @user, @delta) ' +
    `ON CONFLICT (app_name, user_id) DO UPDATE SET state = ${assignKeys('adk_user_states.state', '@delta')}, ` +
    `updated_at = ${NOW} RETURNING ${MERGED_SCOPE.columns}`,
);

/** Merges app: or user: keys into their scope, refusing a state grown past maxStateBytes. */
function mergeScope(merge: Statement, params: Record<string, string>, scope: string, maxStateBytes: number): string {
  const { state, stateBytes: bytes } = MERGED_SCOPE.decode(merge.get(params) as RawRow);
  if (bytes > maxStateBytes) {
    // Thrown mid-operation: all it did is undone (by its savepoint, or on the batch's
    // optimistic first run, which has none, by the batch's rollback and replay).
    throw new StoreError(
      'INVALID_ARGUMENT',
      `the state delta would make the ${scope} state ${bytes} bytes, over the ${maxStateBytes}-byte limit (maxStateBytes); nothing was written`,
    );
  }
  return state;
}
const APP_STATE = pluck('SELECT state FROM adk_app_states WHERE app_name = ?');
const USER_STATE = pluck('SELECT state FROM adk_user_states WHERE app_name = ? AND user_id = ?');

/** A session's key as ADK gives it. */
export type AdkKey = readonly [appName: string, userId: string, sessionId: string];

const describeKey = ([app, user, id]: AdkKey): string => `session ${id} of user ${user} in app ${app}`;

/** The app: and user: scopes, as JSON text without their prefixes (null: none stored yet). */
export interface AdkScopes {
  appState: string | null;
  userState: string | null;
}

export const adkSessionsCreate = defineOperation({
  name: 'adk.sessions.create',
  kind: 'write',
  statements: {
    session: 'INSERT INTO sessions (id, app_name, user_id, state, metadata) VALUES (?, ?, ?, ?, ?)',
    adk: 'INSERT INTO adk_sessions (app_name, user_id, id, session_id, last_update_time) VALUES (?, ?, ?, ?, ?)',
    mergeApp: MERGE_APP_STATE,
    mergeUser: MERGE_USER_STATE,
    app: APP_STATE,
    user: USER_STATE,
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [key, storeId, state, appDelta, userDelta, lastUpdateTime, maxStateBytes, ctx]: readonly [
      AdkKey,
      string,
      string,
      string | null,
      string | null,
      number,
      number,
      AuditContext | undefined,
    ],
  ): AdkScopes {
    const [app, user, id] = key;
    st.session.run(storeId, app, user, state, JSON.stringify({ adk: { sessionId: id } }));
    // The same message DatabaseSessionService gives, on a StoreError with code CONFLICT.
    conflictOnDuplicate(`Session with id ${id} already exists.`, () => st.adk.run(app, user, id, storeId, lastUpdateTime));
    const appState =
      appDelta === null ? (st.app.get(app) as string | undefined) : mergeScope(st.mergeApp, { app, delta: appDelta }, `app: state of app ${app}`, maxStateBytes);
    const userState =
      userDelta === null
        ? (st.user.get(app, user) as string | undefined)
        : mergeScope(st.mergeUser, { app, user, delta: userDelta }, `user: state of user ${user} in app ${app}`, maxStateBytes);
    writeAudit(st.audit, ctx, { action: 'adk_session_create', data: { sessionId: storeId, adkSessionId: id } });
    return { appState: appState ?? null, userState: userState ?? null };
  },
});

/** A stored ADK session, as text: the adapter parses it into ADK's Session and Events. */
export interface AdkSessionRecord extends AdkScopes {
  /** The store's session id (sessions.id). */
  storeId: string;
  version: number;
  lastUpdateTime: number;
  /** The session's event count: the seq of its last event. */
  eventCount: number;
  /** How many appends replaced an event already there (adk_sessions.replacements). */
  replacements: number;
  /** Session-scoped state, JSON text. */
  state: string;
  /** Events as JSON text, oldest first. */
  events: string[];
}

/** Which of a session's events a read returns. */
export interface AdkEventWindow {
  /** Only the newest n events (null: all). */
  recent: number | null;
  /**
   * Then only the trailing run of events whose timestamp is ≥ after (null: no filter), as
   * ADK's InMemorySessionService filters: it stops at the newest event older than `after`.
   */
  after: number | null;
  /** Only the events with a greater seq, oldest first (null: no bound). Not combined with the others. */
  afterSeq: number | null;
}

/** A session as get() reads it: its ADK row, its store session's count and state, and its app's and user's states. */
const SESSION_READ = defineTable('adk_sessions', {
  storeId: { kind: 'text', column: 'a.session_id' },
  version: { kind: 'integer', column: 'a.version' },
  lastUpdateTime: { kind: 'real', column: 'a.last_update_time' },
  replacements: { kind: 'integer', column: 'a.replacements' },
  eventCount: { kind: 'integer', column: 's.event_count' },
  state: { kind: 'text', column: 's.state' },
  appState: { kind: 'text?', column: '(SELECT state FROM adk_app_states WHERE app_name = a.app_name)' },
  userState: { kind: 'text?', column: '(SELECT state FROM adk_user_states WHERE app_name = a.app_name AND user_id = a.user_id)' },
});
/** An event with its timestamp, where it is a JSON number (anything else fails the typeof check where it is read). */
const TIMED_EVENT = defineTable('session_events', { event: 'text', timestamp: { kind: 'real?', column: "json_extract(event, '$.timestamp')" } });

export const adkSessionsGet = defineOperation({
  name: 'adk.sessions.get',
  kind: 'read',
  statements: {
    session: raw(
      `SELECT ${SESSION_READ.columns} ` +
        'FROM adk_sessions a JOIN sessions s ON s.id = a.session_id WHERE a.app_name = ? AND a.user_id = ? AND a.id = ?',
    ),
    // Every event after a seq, oldest first (after 0: the whole log).
    newer: pluck('SELECT event FROM session_events WHERE session_id = ? AND seq > ? ORDER BY seq'),
    newest: LAST_EVENTS,
    newestTimed: raw(`SELECT ${TIMED_EVENT.columns} FROM session_events WHERE session_id = ? ORDER BY seq DESC`),
  },
  run({ st }, [key, { recent, after, afterSeq }]: readonly [AdkKey, AdkEventWindow]): AdkSessionRecord | undefined {
    const found = st.session.get(key) as RawRow | undefined;
    if (found === undefined) return undefined;
    const { storeId, version, lastUpdateTime, replacements, eventCount, state, appState, userState } = SESSION_READ.decode(found);
    let events: string[];
    if (afterSeq !== null) {
      events = st.newer.all(storeId, afterSeq) as string[];
    } else if (after !== null) {
      // Newest first, read only as far as needed: the scan stops at the first older event.
      events = [];
      for (const timed of st.newestTimed.iterate(storeId) as Iterable<RawRow>) {
        const { event, timestamp } = TIMED_EVENT.decode(timed);
        if ((recent !== null && events.length >= recent) || (typeof timestamp === 'number' && timestamp < after)) break;
        events.push(event);
      }
      events.reverse();
    } else if (recent !== null) {
      events = (st.newest.all(storeId, recent) as string[]).reverse();
    } else {
      events = st.newer.all(storeId, 0) as string[];
    }
    return { storeId, version, lastUpdateTime, eventCount, replacements, state, appState, userState, events };
  },
});

/** One listed session: ADK's id, its user, its lastUpdateTime. */
export type AdkListedSession = readonly [id: string, userId: string, lastUpdateTime: number];
export type AdkOrder = 'asc' | 'desc';

/**
 * ADK orders listed sessions by lastUpdateTime, ties by id with `localeCompare` in both
 * directions (InMemorySessionService). SQL orders ties by binary collation, which differs
 * for mixed case and punctuation, so the statements below give the time order and this
 * orders each run of equal times.
 */
export function compareListed(order: AdkOrder): (a: AdkListedSession, b: AdkListedSession) => number {
  return order === 'asc' ? (a, b) => a[2] - b[2] || a[0].localeCompare(b[0]) : (a, b) => b[2] - a[2] || a[0].localeCompare(b[0]);
}

const COLUMNS = 'id, user_id, last_update_time';

/** The statements of one list: one user's sessions (`user`) or all of an app's (`app`). */
function listStatements(scope: 'user' | 'app') {
  const where = scope === 'user' ? 'app_name = @app AND user_id = @user' : 'app_name = @app';
  const byTime = (direction: 'ASC' | 'DESC', before: '<' | '>') => ({
    // The time at a position in time order, the count of rows strictly before a time, and
    // every row between two times (both ends whole, ties and all).
    at: pluck(`SELECT last_update_time FROM adk_sessions WHERE ${where} ORDER BY last_update_time ${direction} LIMIT 1 OFFSET @offset`),
    before: pluck(`SELECT count(*) FROM adk_sessions WHERE ${where} AND last_update_time ${before} @time`),
    range: raw(
      `SELECT ${COLUMNS} FROM adk_sessions WHERE ${where} AND last_update_time BETWEEN @low AND @high ` +
        `ORDER BY last_update_time ${direction}`,
    ),
  });
  return {
    total: pluck(`SELECT count(*) FROM adk_sessions WHERE ${where}`),
    // Without an order ADK lists in its maps' insertion order; here: by user, then id.
    unordered: raw(
      `SELECT ${COLUMNS} FROM adk_sessions WHERE ${where} ORDER BY ${scope === 'user' ? 'id' : 'user_id, id'} LIMIT @count OFFSET @offset`,
    ),
    asc: byTime('ASC', '<'),
    desc: byTime('DESC', '>'),
  };
}

const LIST = { user: listStatements('user'), app: listStatements('app') };

export interface AdkListResult {
  total: number;
  sessions: AdkListedSession[];
}

export const adkSessionsList = defineOperation({
  name: 'adk.sessions.list',
  kind: 'read',
  statements: {
    userTotal: LIST.user.total,
    userUnordered: LIST.user.unordered,
    userAscAt: LIST.user.asc.at,
    userAscBefore: LIST.user.asc.before,
    userAscRange: LIST.user.asc.range,
    userDescAt: LIST.user.desc.at,
    userDescBefore: LIST.user.desc.before,
    userDescRange: LIST.user.desc.range,
    appTotal: LIST.app.total,
    appUnordered: LIST.app.unordered,
    appAscAt: LIST.app.asc.at,
    appAscBefore: LIST.app.asc.before,
    appAscRange: LIST.app.asc.range,
    appDescAt: LIST.app.desc.at,
    appDescBefore: LIST.app.desc.before,
    appDescRange: LIST.app.desc.range,
  },
  /**
   * The sessions at positions [offset, offset + count) of the list (count -1: to the end),
   * and the list's length, from one snapshot.
   */
  run(
    { st },
    [app, user, order, offset, count]: readonly [string, string | null, AdkOrder | null, number, number],
  ): AdkListResult {
    const scope = user === null ? 'app' : 'user';
    const owner = user === null ? { app } : { app, user };
    const total = st[`${scope}Total`].get(owner) as number;
    if (count === 0 || offset >= total) return { total, sessions: [] };
    if (order === null) {
      return { total, sessions: st[`${scope}Unordered`].all({ ...owner, count, offset }) as AdkListedSession[] };
    }
    const dir = order === 'asc' ? 'Asc' : 'Desc';
    const end = count < 0 ? total : Math.min(total, offset + count);
    const first = st[`${scope}${dir}At`].get({ ...owner, offset }) as number;
    const last = st[`${scope}${dir}At`].get({ ...owner, offset: end - 1 }) as number;
    const before = st[`${scope}${dir}Before`].get({ ...owner, time: first }) as number;
    const [low, high] = order === 'asc' ? [first, last] : [last, first];
    const rows = st[`${scope}${dir}Range`].all({ ...owner, low, high }) as AdkListedSession[];
    rows.sort(compareListed(order));
    return { total, sessions: rows.slice(offset - before, end - before) };
  },
});

export const adkSessionsDelete = defineOperation({
  name: 'adk.sessions.delete',
  kind: 'write',
  statements: {
    // Cascades to adk_sessions and session_events; tasks, agents and checkpoints that
    // name the session keep their rows with the session cleared. The app: and user:
    // scopes stay, as in ADK.
    delete: pluck(
      'DELETE FROM sessions WHERE id = (SELECT session_id FROM adk_sessions WHERE app_name = ? AND user_id = ? AND id = ?) RETURNING id',
    ),
    audit: AUDIT_INSERT,
  },
  /** Deleting a session that is not there does nothing, as in ADK. True when one was deleted. */
  run({ st }, [key, ctx]: readonly [AdkKey, AuditContext | undefined]): boolean {
    const storeId = st.delete.get(key) as string | undefined;
    if (storeId === undefined) return false;
    writeAudit(st.audit, ctx, { action: 'adk_session_delete', data: { sessionId: storeId, adkSessionId: key[2] } });
    return true;
  },
});


/** The version of the session an appending object was read at, when the adapter knows it. */
export type KnownVersion = readonly [storeId: string, version: number];

export interface AdkAppendInput {
  key: AdkKey;
  eventId: string;
  /** The event as stored: JSON text, its state delta without temp: keys. */
  event: string;
  timestamp: number;
  /** The delta's keys by scope, as JSON objects (app: and user: keys without their prefix). */
  sessionDelta: string | null;
  appDelta: string | null;
  userDelta: string | null;
  /** The appending object's version; null when it did not come from this adapter. */
  known: KnownVersion | null;
  /** The appending object's lastUpdateTime: the staleness test when its version is unknown. */
  knownLastUpdateTime: number;
  /** What to do when the appending object is older than the stored session. */
  onStale: 'reload' | 'reject';
  maxStateBytes: number;
}

export interface AdkAppendResult {
  storeId: string;
  /** The session's version after this append. */
  version: number;
  /** The event's position in the session's log. */
  seq: number;
  /** The event replaced one with its id (kept or trimmed) rather than being appended. */
  replaced: boolean;
  /** The session's event count and replacement count after this append. */
  eventCount: number;
  replacements: number;
  /** The appending object was older than the stored session (only with onStale 'reload'). */
  stale: boolean;
}

/** Where an append finds the session: its store session, version and time. */
const STORED_SESSION = defineTable('adk_sessions', { sessionId: 'text', version: 'integer', lastUpdateTime: 'real' });
/** The session row after an append: its count and time, and its state's size (0 when no delta merged). */
const APPENDED = defineTable('sessions', {
  eventCount: 'integer',
  lastUpdateTime: 'time',
  stateBytes: { kind: 'integer', column: 'CASE WHEN @delta IS NULL THEN 0 ELSE octet_length(state) END' },
});

export const adkSessionsAppendEvent = defineOperation({
  name: 'adk.sessions.appendEvent',
  kind: 'write',
  statements: {
    adk: raw(`SELECT ${STORED_SESSION.columns} FROM adk_sessions WHERE app_name = ? AND user_id = ? AND id = ?`),
    // The id's seq, its event kept or trimmed (a trimmed event is not appended again).
    existing: SEQ_OF_EVENT_ID,
    // As the event log numbers events (sessions.appendEvent): the session row first, its
    // event_count the new event's seq, its last_update_time the event's created_at.
    session: raw(
      `UPDATE sessions SET state = CASE WHEN @delta IS NULL THEN state ELSE ${assignKeys('sessions.state', '@delta')} END, ` +
        `event_count = event_count + @added, last_update_time = ${NOW} ` +
        "WHERE id = @sid AND status IN ('created', 'active', 'paused') " +
        `RETURNING ${APPENDED.columns}`,
    ),
    insertEvent: 'INSERT INTO session_events (session_id, seq, event_id, event, created_at) VALUES (?, ?, ?, ?, ?)',
    replaceEvent: 'UPDATE session_events SET event = ? WHERE session_id = ? AND seq = ?',
    status: pluck('SELECT status FROM sessions WHERE id = ?'),
    mergeApp: MERGE_APP_STATE,
    mergeUser: MERGE_USER_STATE,
    bump:
      'UPDATE adk_sessions SET version = version + 1, replacements = replacements + @replaced, last_update_time = @time ' +
      'WHERE app_name = @app AND user_id = @user AND id = @id RETURNING version, replacements',
    audit: AUDIT_INSERT,
  },
  /**
   * Appends an event, or replaces the stored event with the same id where it stands (ADK's
   * rule: an event id appended again replaces that event and applies its delta again), and
   * applies its delta to the three scopes, as one atomic operation. So an event id is stored once:
   * a retry after OUTCOME_UNKNOWN never duplicates an event.
   */
  run({ st }, [input, ctx]: readonly [AdkAppendInput, AuditContext | undefined]): AdkAppendResult {
    const { key, eventId, event } = input;
    const [app, user, id] = key;
    const found = st.adk.get(key) as RawRow | undefined;
    if (found === undefined) throw new StoreError('NOT_FOUND', `${describeKey(key)} does not exist; cannot append event ${eventId}`);
    const { sessionId: storeId, version, lastUpdateTime } = STORED_SESSION.decode(found);
    const stale =
      input.known === null
        ? lastUpdateTime > input.knownLastUpdateTime
        : input.known[0] !== storeId || input.known[1] !== version;
    if (stale && input.onStale === 'reject') {
      throw new StoreError(
        'CONFLICT',
        `${describeKey(key)} changed since this session object was read (stored version ${version}); ` +
          'get the session again and retry',
      );
    }
    const existing = st.existing.get({ session: storeId, eventId }) as number | undefined;
    const updated = st.session.get({ sid: storeId, delta: input.sessionDelta, added: existing === undefined ? 1 : 0 }) as RawRow | undefined;
    if (updated === undefined) {
      throw new StoreError('INVALID_STATE', `cannot append an event to ${describeKey(key)}: it is ${String(st.status.get(storeId))}`);
    }
    const { eventCount, lastUpdateTime: now, stateBytes } = APPENDED.decode(updated);
    checkStateBytes(storeId, stateBytes, input.maxStateBytes);
    const seq = existing ?? eventCount;
    if (existing === undefined) st.insertEvent.run(storeId, seq, eventId, event, now);
    // Replaced where it stands; an event trimmed since has no row left to replace.
    else st.replaceEvent.run(event, storeId, seq);
    if (input.appDelta !== null) mergeScope(st.mergeApp, { app, delta: input.appDelta }, `app: state of app ${app}`, input.maxStateBytes);
    if (input.userDelta !== null) {
      mergeScope(st.mergeUser, { app, user, delta: input.userDelta }, `user: state of user ${user} in app ${app}`, input.maxStateBytes);
    }
    const replaced = existing !== undefined;
    const next = st.bump.get({ app, user, id, time: input.timestamp, replaced: replaced ? 1 : 0 }) as { version: number; replacements: number };
    writeAudit(st.audit, ctx, {
      action: 'adk_append_event',
      data: { sessionId: storeId, eventId, seq, replaced },
    });
    return { storeId, version: next.version, seq, replaced, eventCount, replacements: next.replacements, stale };
  },
});

// ADK memory: one memory_entries row per event with text, namespace adk:<app>:<user>, key
// <session id>/<event id> (both URI-encoded, so '/' separates them unambiguously), type
// episodic, value { content, author, timestamp }. The newest live version of each key has a
// row in adk_memory_fts. Adding a session again replaces what it added before: unchanged
// events stay as they are, changed ones get a new version, missing ones are deleted.

/** One event to keep in memory: its key, its value as JSON text, its words. */
export type AdkMemoryItem = readonly [key: string, value: string, text: string];

export interface AdkMemoryAddInput {
  namespace: string;
  /** The namespace's one-token hash, the FTS scope column. */
  scope: string;
  /** Keys of this session's entries are in [keyFrom, keyTo). */
  keyFrom: string;
  keyTo: string;
  items: readonly AdkMemoryItem[];
}

export interface AdkMemoryAddResult {
  added: number;
  changed: number;
  removed: number;
}

/** A key's newest live version (SQLite takes the bare columns from the row with the max). */
const CURRENT_ENTRY = defineTable('memory_entries', { key: 'text', id: 'integer', value: 'text', version: { kind: 'integer', column: 'max(version)' } });

export const adkMemoryAddSession = defineOperation({
  name: 'adk.memory.addSession',
  kind: 'write',
  statements: {
    current: raw(
      `SELECT ${CURRENT_ENTRY.columns} FROM memory_entries ` +
        'WHERE namespace = @namespace AND key >= @keyFrom AND key < @keyTo AND is_deleted = 0 GROUP BY key',
    ),
    maxVersion: pluck('SELECT max(version) FROM memory_entries WHERE namespace = ? AND key = ?'),
    insert: pluck(
      'INSERT INTO memory_entries (namespace, key, value, memory_type, version, created_by, updated_by) ' +
        "VALUES (?, ?, ?, 'episodic', ?, 'adk', 'adk') RETURNING id",
    ),
    remove: `UPDATE memory_entries SET is_deleted = 1, updated_at = ${NOW} WHERE namespace = ? AND key = ? AND is_deleted = 0`,
    index: 'INSERT INTO adk_memory_fts (rowid, scope, text) VALUES (?, ?, ?)',
    unindex: 'DELETE FROM adk_memory_fts WHERE rowid = ?',
    audit: AUDIT_INSERT,
  },
  run({ st }, [input, ctx]: readonly [AdkMemoryAddInput, AuditContext | undefined]): AdkMemoryAddResult {
    const { namespace, scope } = input;
    const stored = new Map<string, { id: number; value: string }>();
    for (const row of st.current.all(input) as RawRow[]) {
      const { key, id, value } = CURRENT_ENTRY.decode(row);
      stored.set(key, { id, value });
    }
    const result = { added: 0, changed: 0, removed: 0 };
    const put = (key: string, value: string, text: string): void => {
      const version = ((st.maxVersion.get(namespace, key) as number | null) ?? 0) + 1;
      st.index.run(st.insert.get(namespace, key, value, version), scope, text);
    };
    for (const [key, value, text] of input.items) {
      const old = stored.get(key);
      stored.delete(key);
      if (old === undefined) {
        put(key, value, text);
        result.added++;
      } else if (old.value !== value) {
        st.unindex.run(old.id);
        put(key, value, text);
        result.changed++;
      }
    }
    for (const [key, old] of stored) {
      st.unindex.run(old.id);
      st.remove.run(namespace, key);
      result.removed++;
    }
    writeAudit(st.audit, ctx, {
      action: 'adk_memory_add_session',
      data: { ...result },
      memory: { operation: 'update', namespace, entryId: null },
    });
    return result;
  },
});

/** A keyword search of one namespace's ADK memory. */
export interface AdkMemorySearch {
  namespace: string;
  /** The namespace's one-token hash, the FTS scope column. */
  scope: string;
  /** The query's words, as the caller wrote them: any of them matches. */
  words: readonly string[];
  limit: number;
}

/**
 * An FTS5 query that matches any of the words in one scope. Each word is a quoted phrase
 * (so no query text is FTS syntax): FTS splits it as it split the stored text, so
 * `weather?` finds "weather" and `don't` finds "don't".
 */
export function ftsQuery(scope: string, words: readonly string[]): string {
  return `scope : "${scope}" AND text : (${words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' OR ')})`;
}

export const adkMemorySearch = defineOperation({
  name: 'adk.memory.search',
  kind: 'read',
  statements: {
    // The FTS index yields matches best first (rank: BM25 over the text); each is checked
    // against its live memory entry. scope in the query keeps the postings read to this
    // namespace's; the namespace test guards against a hash collision.
    search: pluck(
      'SELECT m.value FROM adk_memory_fts f JOIN memory_entries m ON m.id = f.rowid ' +
        'WHERE f.adk_memory_fts MATCH @query AND m.namespace = @namespace AND m.is_deleted = 0 ORDER BY f.rank LIMIT @limit',
    ),
  },
  run({ st }, [search]: readonly [AdkMemorySearch]): string[] {
    const { namespace, scope, words, limit } = search;
    return st.search.all({ namespace, query: ftsQuery(scope, words), limit }) as string[];
  },
});

export const adkOperations = [
  adkSessionsCreate,
  adkSessionsGet,
  adkSessionsList,
  adkSessionsDelete,
  adkSessionsAppendEvent,
  adkMemoryAddSession,
  adkMemorySearch,
];
