import { StoreError } from '../../api/errors.js';
import {
  adkMemoryAddSession,
  adkMemorySearch,
  adkSessionsAppendEvent,
  adkSessionsCreate,
  adkSessionsDelete,
  adkSessionsGet,
  adkSessionsList,
  compareListed,
  type AdkKey,
  type AdkListedSession,
  type AdkOrder,
} from '../../catalogue/adk.js';
import { checkStateBytes } from '../../catalogue/session-events.js';
import { ADK_SESSIONS } from '../../catalogue/adapter-tables.js';
import { defineTable, type RawRow, type RowOf } from '../../catalogue/table.js';
import { implement, RetryTransaction, type PgQueries } from '../operation.js';
import { conflictOnDuplicate, isUniqueViolation } from './conflict.js';
import { memoryDocument, searchQuery, searchText } from '../memory-text.js';
import { NOW } from './sql.js';

// The Google ADK adapter on PostgreSQL (sql/postgres/004_adk.sql), with the semantics of
// src/catalogue/adk.ts. ADK's state delta assigns top-level keys whole (a value replaces
// the key's value, null is stored as null): jsonb's `||` does exactly that.

const describeKey = ([app, user, id]: AdkKey): string => `session ${id} of user ${user} in app ${app}`;

/** Refuses an app: or user: state the merge made larger than maxStateBytes (the transaction then rolls back). */
function checkScopeBytes(bytes: number | null, scope: string, maxStateBytes: number): void {
  if (bytes !== null && bytes > maxStateBytes) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `the state delta would make the ${scope} state ${bytes} bytes, over the ${maxStateBytes}-byte limit (maxStateBytes); nothing was written`,
    );
  }
}

/** Merges `$delta` (NULL: nothing) into a scope table's state; returns the merged state's size. */
const mergeScope = (table: 'adk_app_states' | 'adk_user_states', columns: string, values: string, delta: string, from: string): string =>
  `INSERT INTO ${table} AS t (${columns}, state) SELECT ${values}, ${delta}::jsonb ${from} WHERE ${delta}::jsonb IS NOT NULL ` +
  `ON CONFLICT (${columns}) DO UPDATE SET state = t.state || excluded.state, updated_at = ${NOW} RETURNING t.state`;

/** What a create returns: each scope's state (merged or as it was), and the size of a merged one. */
const CREATED = defineTable('adk_sessions', {
  appState: { kind: 'text?', column: 'coalesce((SELECT state FROM app), (SELECT state FROM adk_app_states WHERE app_name = $1))' },
  appBytes: { kind: 'integer?', column: 'octet_length((SELECT state FROM app)::text)' },
  userState: {
    kind: 'text?',
    column: 'coalesce((SELECT state FROM usr), (SELECT state FROM adk_user_states WHERE app_name = $1 AND user_id = $2))',
  },
  userBytes: { kind: 'integer?', column: 'octet_length((SELECT state FROM usr)::text)' },
});

export const pgAdkSessionsCreate = implement(adkSessionsCreate, {
  statements: {
    // The store session, ADK's row (its key taken: 23505), the scopes merged or read.
    create:
      'WITH s AS (INSERT INTO sessions (id, app_name, user_id, state, metadata) VALUES ($4, $1, $2, $5::jsonb, $6::jsonb) RETURNING id), ' +
      'a AS (INSERT INTO adk_sessions (app_name, user_id, id, session_id, last_update_time) SELECT $1, $2, $3, s.id, $7 FROM s), ' +
      `app AS (${mergeScope('adk_app_states', 'app_name', '$1', '$8', '')}), ` +
      `usr AS (${mergeScope('adk_user_states', 'app_name, user_id', '$1, $2', '$9', '')}) ` +
      `SELECT ${CREATED.columns}`,
  },
  async run(q, [key, storeId, state, appDelta, userDelta, lastUpdateTime, maxStateBytes, ctx]) {
    const [app, user, id] = key;
    const row = await conflictOnDuplicate(
      // The same message DatabaseSessionService gives, on a StoreError with code CONFLICT.
      `Session with id ${id} already exists.`,
      q.one('create', [app, user, id, storeId, state, JSON.stringify({ adk: { sessionId: id } }), lastUpdateTime, appDelta, userDelta]),
    );
    const { appState, appBytes, userState, userBytes } = CREATED.decode(row!);
    checkScopeBytes(appBytes, `app: state of app ${app}`, maxStateBytes);
    checkScopeBytes(userBytes, `user: state of user ${user} in app ${app}`, maxStateBytes);
    await q.audit(ctx, { action: 'adk_session_create', data: { sessionId: storeId, adkSessionId: id } });
    return { appState, userState };
  },
});

// getSession's events, in one statement with the session: those after the newest event
// whose timestamp is a number below `after` ($5; NULL: no such cut), and of those the
// newest `recent` ($4; NULL: all), in append order; or, for a stale object's reload, every
// event after a seq ($6; 0 without one). Both bounds are index seeks from the
// newest event back, so the read stops where the SQLite engine's scan stops.
const AFTER_CUT =
  'CASE WHEN $5::float8 IS NULL THEN 0 ELSE coalesce((SELECT e.seq FROM session_events AS e WHERE e.session_id = a.session_id ' +
  "AND CASE WHEN jsonb_typeof(e.event -> 'timestamp') = 'number' THEN (e.event -> 'timestamp')::float8 < $5::float8 ELSE false END " +
  'ORDER BY e.seq DESC LIMIT 1), 0) END';
const RECENT_FROM =
  'CASE WHEN $4::int IS NULL THEN 0 ELSE coalesce((SELECT e.seq FROM session_events AS e WHERE e.session_id = a.session_id ' +
  'ORDER BY e.seq DESC OFFSET $4::int - 1 LIMIT 1), 0) END';

export const pgAdkSessionsGet = implement(adkSessionsGet, {
  statements: {
    // ADK's row, then the session's state, the two scopes and the events.
    session:
      `SELECT ${ADK_SESSIONS.qualified('a')}, s.state, ` +
      '(SELECT state FROM adk_app_states WHERE app_name = a.app_name), ' +
      '(SELECT state FROM adk_user_states WHERE app_name = a.app_name AND user_id = a.user_id), ' +
      'ARRAY(SELECT e.event::text FROM session_events AS e WHERE e.session_id = a.session_id ' +
      `AND e.seq > $6::int AND e.seq > ${AFTER_CUT} AND e.seq >= ${RECENT_FROM} ORDER BY e.seq), s.event_count, ` +
      '(SELECT e.seq FROM session_events AS e WHERE e.session_id = a.session_id ORDER BY e.seq LIMIT 1) ' +
      'FROM adk_sessions AS a JOIN sessions AS s ON s.id = a.session_id WHERE a.app_name = $1 AND a.user_id = $2 AND a.id = $3',
  },
  async run(q, [key, { recent, after, afterSeq }]) {
    // afterSeq is not combined with the other bounds (as on SQLite).
    const row = await q.one('session', afterSeq === null ? [...key, recent, after, 0] : [...key, null, null, afterSeq]);
    if (row === undefined) return undefined;
    const adk = ADK_SESSIONS.decode(row);
    return {
      storeId: adk.sessionId,
      version: adk.version,
      lastUpdateTime: adk.lastUpdateTime,
      eventCount: ADK_SESSIONS.after(row, 4) as number,
      replacements: adk.replacements,
      firstSeq: (ADK_SESSIONS.after(row, 5) as number | null) ?? (ADK_SESSIONS.after(row, 4) as number) + 1,
      state: ADK_SESSIONS.after(row, 0) as string,
      appState: ADK_SESSIONS.after(row, 1) as string | null,
      userState: ADK_SESSIONS.after(row, 2) as string | null,
      events: ADK_SESSIONS.after(row, 3) as string[],
    };
  },
});

/**
 * The statements of one list scope, each one round trip: `unordered` (by user, then id),
 * and `asc`/`desc` by lastUpdateTime, which return every session whose time is within the
 * page's (ties and all: ADK breaks ties with localeCompare, which the rows are then sorted
 * by). Each row: ADK's row, then the list's length, how many sessions come before the
 * page's first time, and whether the row is a session (a list with none still says its
 * length, in one row without a session).
 */
function listStatements(scope: 'user' | 'app') {
  const own = scope === 'user' ? 'app_name = $1 AND user_id = $2' : 'app_name = $1';
  const n = scope === 'user' ? 2 : 1;
  const offset = `$${n + 1}`;
  // Unordered: how many to list (NULL: all). Ordered: the page's last position (NULL: the list's end).
  const bound = `$${n + 2}`;
  const total = `(SELECT count(*)::int FROM adk_sessions WHERE ${own})`;
  const listed = (r: string): string => `${ADK_SESSIONS.qualified(r)}, b.total, b.before, ${r}.id IS NOT NULL`;
  const ordered = (direction: 'ASC' | 'DESC') => {
    const end = direction === 'ASC' ? 'max' : 'min';
    const at = (position: string): string =>
      `(SELECT last_update_time FROM adk_sessions WHERE ${own} ORDER BY last_update_time ${direction} LIMIT 1 OFFSET ${position})`;
    const [low, high] = direction === 'ASC' ? ['b.first', 'b.last'] : ['b.last', 'b.first'];
    return (
      `WITH page AS (SELECT ${total} AS total, ${at(offset)} AS first, ` +
      // The page's last position (NULL: to the end of the list), or the list's last time.
      `coalesce(CASE WHEN ${bound}::int IS NULL THEN NULL ELSE ${at(bound)} END, ` +
      `(SELECT ${end}(last_update_time) FROM adk_sessions WHERE ${own})) AS last) ` +
      `SELECT ${listed('r')} FROM (SELECT page.*, (SELECT count(*)::int FROM adk_sessions WHERE ${own} ` +
      `AND last_update_time ${direction === 'ASC' ? '<' : '>'} page.first) AS before FROM page) AS b ` +
      `LEFT JOIN LATERAL (SELECT * FROM adk_sessions WHERE ${own} ` +
      `AND last_update_time BETWEEN ${low} AND ${high} ORDER BY last_update_time ${direction}) AS r ON true`
    );
  };
  return {
    unordered:
      `SELECT ${listed('p')} FROM (SELECT ${total} AS total, 0 AS before) AS b LEFT JOIN LATERAL (SELECT * ` +
      `FROM adk_sessions WHERE ${own} ORDER BY ${scope === 'user' ? 'id' : 'user_id, id'} OFFSET ${offset} LIMIT ${bound}) AS p ON true`,
    asc: ordered('ASC'),
    desc: ordered('DESC'),
  };
}

const LIST = { user: listStatements('user'), app: listStatements('app') };

export const pgAdkSessionsList = implement(adkSessionsList, {
  statements: {
    userUnordered: LIST.user.unordered,
    userAsc: LIST.user.asc,
    userDesc: LIST.user.desc,
    appUnordered: LIST.app.unordered,
    appAsc: LIST.app.asc,
    appDesc: LIST.app.desc,
  },
  async run(q, [app, user, order, offset, count]) {
    const scope = user === null ? 'app' : 'user';
    const owner = user === null ? [app] : [app, user];
    const direction: AdkOrder | null = count === 0 ? null : order;
    // Unordered: the page itself (count -1: to the end). Ordered: the last position of the page.
    const bound = direction === null ? (count < 0 ? null : count) : count < 0 ? null : offset + count - 1;
    const statement = `${scope}${direction === null ? 'Unordered' : direction === 'asc' ? 'Asc' : 'Desc'}` as const;
    const rows = await q.all(statement, [...owner, offset, bound]);
    const total = ADK_SESSIONS.after(rows[0]!, 0) as number;
    const before = ADK_SESSIONS.after(rows[0]!, 1) as number;
    const found = rows
      .filter((row) => ADK_SESSIONS.after(row, 2) === true)
      .map((row): AdkListedSession => {
        const session = ADK_SESSIONS.decode(row);
        return [session.id, session.userId, session.lastUpdateTime];
      });
    if (direction === null) return { total, sessions: found };
    if (offset >= total) return { total, sessions: [] };
    const end = count < 0 ? total : Math.min(total, offset + count);
    found.sort(compareListed(direction));
    return { total, sessions: found.slice(offset - before, end - before) };
  },
});

export const pgAdkSessionsDelete = implement(adkSessionsDelete, {
  statements: {
    // Cascades to adk_sessions and session_events; tasks, agents and checkpoints that name
    // the session keep their rows with the session cleared. The app: and user: scopes stay.
    delete: 'DELETE FROM sessions WHERE id = (SELECT session_id FROM adk_sessions WHERE app_name = $1 AND user_id = $2 AND id = $3) RETURNING id',
  },
  async run(q, [key, ctx]) {
    const storeId = (await q.value('delete', [...key])) as string | undefined;
    if (storeId === undefined) return false;
    await q.audit(ctx, { action: 'adk_session_delete', data: { sessionId: storeId, adkSessionId: key[2] } });
    return true;
  },
});

/** What an append returns: the event's seq, whether it replaced one, the sizes of what it merged, the session's new counts. */
const APPENDED = defineTable('sessions', {
  seq: { kind: 'integer', column: 'coalesce((SELECT seq FROM ex), s.event_count)' },
  replaced: { kind: 'boolean', column: '(SELECT seq FROM ex) IS NOT NULL' },
  stateBytes: { kind: 'integer', column: 's.bytes' },
  appBytes: { kind: 'integer?', column: 'octet_length((SELECT state FROM app)::text)' },
  userBytes: { kind: 'integer?', column: 'octet_length((SELECT state FROM usr)::text)' },
  version: { kind: 'integer', column: '(SELECT version FROM bump)' },
  eventCount: { kind: 'integer', column: 's.event_count' },
  replacements: { kind: 'integer', column: '(SELECT replacements FROM bump)' },
});

const APPEND_STATEMENTS = {
  // ADK's row, locked: appends to one session, from any host, take turns, and each judges
  // staleness against the version the one before it left.
  lock: `SELECT ${ADK_SESSIONS.columns} FROM adk_sessions WHERE app_name = $1 AND user_id = $2 AND id = $3 FOR UPDATE`,
  // In one statement, after the lock (so it sees the appends before it): the event found by
  // its id or appended (the session row first, its event_count the new event's seq, its
  // last_update_time the event's created_at, as the event log numbers events), the three
  // scopes' deltas, the version bumped. Nothing when the session no longer takes events.
  append:
    // The id's seq, its event kept or trimmed (a trimmed event is not appended again).
    'WITH ex AS (SELECT seq FROM session_events WHERE session_id = $1 AND event_id = $2 ' +
    'UNION ALL SELECT seq FROM session_trimmed_event_ids WHERE session_id = $1 AND event_id = $2 LIMIT 1), ' +
    's AS (UPDATE sessions SET state = CASE WHEN $4::jsonb IS NULL THEN state ELSE state || $4::jsonb END, ' +
    `event_count = event_count + CASE WHEN EXISTS (SELECT 1 FROM ex) THEN 0 ELSE 1 END, last_update_time = ${NOW} ` +
    "WHERE id = $1 AND status IN ('created', 'active', 'paused') " +
    'RETURNING event_count, last_update_time, CASE WHEN $4::jsonb IS NULL THEN 0 ELSE octet_length(state::text) END AS bytes), ' +
    'ins AS (INSERT INTO session_events (session_id, seq, event_id, event, created_at) ' +
    'SELECT $1, s.event_count, $2, $3::jsonb, s.last_update_time FROM s WHERE NOT EXISTS (SELECT 1 FROM ex)), ' +
    // Replaced where it stands; an event trimmed since has no row left to replace.
    'rep AS (UPDATE session_events SET event = $3::jsonb WHERE session_id = $1 AND seq = (SELECT seq FROM ex) AND EXISTS (SELECT 1 FROM s)), ' +
    `app AS (${mergeScope('adk_app_states', 'app_name', '$5', '$6', 'FROM s')}), ` +
    `usr AS (${mergeScope('adk_user_states', 'app_name, user_id', '$5, $7', '$8', 'FROM s')}), ` +
    'bump AS (UPDATE adk_sessions SET version = version + 1, last_update_time = $9, ' +
    'replacements = replacements + CASE WHEN EXISTS (SELECT 1 FROM ex) THEN 1 ELSE 0 END ' +
    'WHERE app_name = $5 AND user_id = $7 AND id = $10 AND EXISTS (SELECT 1 FROM s) RETURNING version, replacements) ' +
    `SELECT ${APPENDED.columns} FROM s`,
  status: 'SELECT status FROM sessions WHERE id = $1',
} as const;

async function locked(q: PgQueries<typeof APPEND_STATEMENTS>, key: AdkKey, eventId: string): Promise<RowOf<typeof ADK_SESSIONS>> {
  const row = await q.one('lock', [...key]);
  if (row === undefined) throw new StoreError('NOT_FOUND', `${describeKey(key)} does not exist; cannot append event ${eventId}`);
  return ADK_SESSIONS.decode(row);
}

export const pgAdkSessionsAppendEvent = implement(adkSessionsAppendEvent, {
  statements: APPEND_STATEMENTS,
  /**
   * Appends an event, or replaces the stored event with the same id where it stands (ADK's
   * rule), and applies its delta to the three scopes, in one transaction.
   */
  async run(q, [input, ctx]) {
    const { key, eventId, event } = input;
    const [app, user, id] = key;
    const { sessionId: storeId, version, lastUpdateTime } = await locked(q, key, eventId);
    const stale =
      input.known === null ? lastUpdateTime > input.knownLastUpdateTime : input.known[0] !== storeId || input.known[1] !== version;
    if (stale && input.onStale === 'reject') {
      throw new StoreError(
        'CONFLICT',
        `${describeKey(key)} changed since this session object was read (stored version ${version}); get the session again and retry`,
      );
    }
    let row: RawRow | undefined;
    try {
      row = await q.one('append', [storeId, eventId, event, input.sessionDelta, app, input.appDelta, user, input.userDelta, input.timestamp, id]);
    } catch (error) {
      // The same event id appended to the store session by another way at the same moment.
      if (isUniqueViolation(error)) throw new RetryTransaction(`event ${eventId} of ${describeKey(key)} was appended concurrently`);
      throw error;
    }
    if (row === undefined) {
      throw new StoreError('INVALID_STATE', `cannot append an event to ${describeKey(key)}: it is ${String(await q.value('status', [storeId]))}`);
    }
    const { seq, replaced, stateBytes, appBytes, userBytes, version: next, eventCount, replacements } = APPENDED.decode(row);
    checkStateBytes(storeId, stateBytes, input.maxStateBytes);
    checkScopeBytes(appBytes, `app: state of app ${app}`, input.maxStateBytes);
    checkScopeBytes(userBytes, `user: state of user ${user} in app ${app}`, input.maxStateBytes);
    await q.audit(ctx, { action: 'adk_append_event', data: { sessionId: storeId, eventId, seq, replaced } });
    return { storeId, version: next, seq, replaced, eventCount, replacements, stale };
  },
});

// ADK memory: memory_entries rows, one per event with text (see src/catalogue/adk.ts), and
// for the current version of each a tsvector in adk_memory_fts (../memory-text.ts).

/** A key's current entry, and whether the value being added equals it. */
const CURRENT_ENTRY = defineTable('memory_entries', {
  key: { kind: 'text', column: 'c.key' },
  id: { kind: 'integer', column: 'c.id' },
  same: { kind: 'boolean', column: 'coalesce(c.value = i.value::jsonb, false)' },
});

export const pgAdkMemoryAddSession = implement(adkMemoryAddSession, {
  statements: {
    // Adds of one session's memory take turns, on every host.
    lock: "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 11))",
    // The current version of each of the session's entries, and whether the new value is the same.
    current:
      `SELECT ${CURRENT_ENTRY.columns} FROM (SELECT DISTINCT ON (key) key, id, value FROM memory_entries ` +
      'WHERE namespace = $1 AND key >= $2 AND key < $3 AND is_deleted = false ORDER BY key, version DESC) AS c ' +
      'LEFT JOIN unnest($4::text[], $5::text[]) AS i (key, value) ON i.key = c.key',
    // New versions of new and changed entries (max + 1, deleted versions counted), their
    // words indexed; the old versions' words unindexed; the removed keys deleted.
    write:
      'WITH unindexed AS (DELETE FROM adk_memory_fts WHERE entry_id = ANY ($5::bigint[])), ' +
      `removed AS (UPDATE memory_entries SET is_deleted = true, updated_at = ${NOW} WHERE namespace = $1 AND key = ANY ($6::text[]) AND is_deleted = false), ` +
      'inserted AS (INSERT INTO memory_entries (namespace, key, value, memory_type, version, created_by, updated_by) ' +
      "SELECT $1, x.key, x.value::jsonb, 'episodic', coalesce((SELECT max(m.version) FROM memory_entries AS m WHERE m.namespace = $1 AND m.key = x.key), 0) + 1, " +
      "'adk', 'adk' FROM unnest($2::text[], $3::text[]) AS x (key, value) RETURNING id, key) " +
      `INSERT INTO adk_memory_fts (entry_id, document) SELECT i.id, ${memoryDocument('$1', 'x.text')} ` +
      'FROM inserted AS i JOIN unnest($2::text[], $4::text[]) AS x (key, text) ON x.key = i.key',
  },
  async run(q, [input, ctx]) {
    const { namespace } = input;
    await q.send('lock', [namespace, input.keyFrom]);
    const current = await q.all('current', [
      namespace,
      input.keyFrom,
      input.keyTo,
      input.items.map(([key]) => key),
      input.items.map(([, value]) => value),
    ]);
    const stored = new Map(current.map((row) => CURRENT_ENTRY.decode(row)).map(({ key, id, same }) => [key, { id, same }]));
    const result = { added: 0, changed: 0, removed: 0 };
    const put: (typeof input.items)[number][] = [];
    const unindex: number[] = [];
    for (const item of input.items) {
      const old = stored.get(item[0]);
      stored.delete(item[0]);
      if (old === undefined) {
        put.push(item);
        result.added++;
      } else if (!old.same) {
        unindex.push(old.id);
        put.push(item);
        result.changed++;
      }
    }
    for (const old of stored.values()) {
      unindex.push(old.id);
      result.removed++;
    }
    if (put.length > 0 || unindex.length > 0) {
      try {
        await q.all('write', [
          namespace,
          put.map(([key]) => key),
          put.map(([, value]) => value),
          put.map(([, , text]) => searchText(text)),
          unindex,
          [...stored.keys()],
        ]);
      } catch (error) {
        // A version of one of these keys written by another way at the same moment.
        if (isUniqueViolation(error)) throw new RetryTransaction(`memory of ${namespace} was written concurrently`);
        throw error;
      }
    }
    await q.audit(ctx, { action: 'adk_memory_add_session', data: { ...result }, memory: { operation: 'update', namespace, entryId: null } });
    return result;
  },
});

export const pgAdkMemorySearch = implement(adkMemorySearch, {
  statements: {
    // Matches of the scope and any word (the GIN index intersects their postings), each
    // checked against its live memory entry, best first: ts_rank over the words.
    search:
      'SELECT m.value FROM adk_memory_fts AS f JOIN memory_entries AS m ON m.id = f.entry_id ' +
      "WHERE f.document @@ (to_tsquery('simple', 's' || md5($1)) && to_tsquery('simple', $2)) AND m.namespace = $1 AND m.is_deleted = false " +
      "ORDER BY ts_rank(f.document, to_tsquery('simple', $2)) DESC, f.entry_id LIMIT $3",
  },
  async run(q, [search]) {
    const query = searchQuery(search.words);
    if (query === undefined) return [];
    const rows = await q.all('search', [search.namespace, query, search.limit]);
    return rows.map(([value]) => value as string);
  },
});

export const pgAdkOperations = [
  pgAdkSessionsCreate,
  pgAdkSessionsGet,
  pgAdkSessionsList,
  pgAdkSessionsDelete,
  pgAdkSessionsAppendEvent,
  pgAdkMemoryAddSession,
  pgAdkMemorySearch,
];
