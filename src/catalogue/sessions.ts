import { StoreError } from '../api/errors.js';
import type { AuditContext, JsonObject, JsonValue, Page, Session, SessionInfo, SessionStatus } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import { SESSIONS } from './tables.js';
import type { RawRow } from './table.js';
import {
  EVENT_TEXTS,
  eventRangeOf,
  FIRST_SEQ,
  checkStateBytes,
  heldRange,
  LAST_EVENTS,
  SESSION_STATUS,
  sessionEventOperations,
  STORED_SESSION_WIRE,
  replacementsOf,
  type HeldEvents,
  type SessionVersion,
  type StoredSession,
} from './session-events.js';
import { conflictOnDuplicate, NOW } from './sql.js';

/** A session with the events read for it (event texts, oldest first); both engines' reads use it. */
export function withEvents(info: SessionInfo, events: readonly string[]): Session {
  const session = info as Session;
  session.events = events.map((text) => JSON.parse(text) as JsonValue);
  return session;
}

/** Moves the session lifecycle allows: created → active → (paused ↔ active) → terminated → archived. */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  created: ['active', 'terminated'],
  active: ['paused', 'terminated'],
  paused: ['active', 'terminated'],
  terminated: ['archived'],
  archived: [],
};

export const sessionsCreate = defineOperation({
  name: 'sessions.create',
  kind: 'write',
  statements: {
    insert: raw(
      'INSERT INTO sessions (id, app_name, user_id, project_id, state, metadata) ' +
        `VALUES (?, ?, ?, ?, ?, ?) RETURNING ${SESSIONS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [id, appName, userId, projectId, state, metadata, ctx]: readonly [
      string,
      string,
      string,
      string | null,
      string,
      string | null,
      AuditContext | undefined,
    ],
  ): Session {
    const row = conflictOnDuplicate(`session ${id} already exists`, () =>
      st.insert.get(id, appName, userId, projectId, state, metadata),
    ) as RawRow;
    writeAudit(st.audit, ctx, { action: 'session_create', data: { sessionId: id } });
    return withEvents(SESSIONS.decode(row), []);
  },
});

export const sessionsGet = defineOperation({
  name: 'sessions.get',
  kind: 'read',
  statements: {
    byId: raw(`SELECT ${SESSIONS.columns}, rowid, ${replacementsOf('sessions')} FROM sessions WHERE id = ?`),
    first: FIRST_SEQ,
    texts: EVENT_TEXTS,
  },
  wire: STORED_SESSION_WIRE,
  /** The session and its newest `lastEvents` events (null: all), without the texts of those `held` says the caller holds decoded. */
  run({ st }, [id, lastEvents, held]: readonly [string, number | null, HeldEvents | null]): StoredSession | undefined {
    const row = st.byId.get(id) as RawRow | undefined;
    if (row === undefined) return undefined;
    const session = SESSIONS.decode(row);
    const version: SessionVersion = [SESSIONS.after(row, 0) as number, session.createdAt, SESSIONS.after(row, 1) as number];
    return { session, version, ...eventRangeOf(st, id, lastEvents, session.eventCount, heldRange(held, version, session.eventCount)) };
  },
});

export const sessionsSetStatus = defineOperation({
  name: 'sessions.setStatus',
  kind: 'write',
  statements: {
    status: SESSION_STATUS,
    update: raw(
      `UPDATE sessions SET status = @status, last_update_time = ${NOW}, ` +
        `terminated_at = CASE WHEN @status = 'terminated' THEN ${NOW} ELSE terminated_at END, ` +
        `archived_at = CASE WHEN @status = 'archived' THEN ${NOW} ELSE archived_at END ` +
        `WHERE id = @id RETURNING ${SESSIONS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, status, ctx]: readonly [string, SessionStatus, AuditContext | undefined]): SessionInfo {
    const current = st.status.get(id) as SessionStatus | undefined;
    if (current === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    if (!SESSION_TRANSITIONS[current].includes(status)) {
      throw new StoreError('INVALID_STATE', `session ${id} cannot move from ${current} to ${status}`);
    }
    const row = st.update.get({ status, id }) as RawRow;
    writeAudit(st.audit, ctx, {
      action: 'session_set_status',
      data: { sessionId: id, from: current, to: status },
    });
    return SESSIONS.decode(row);
  },
});

export const sessionsGetState = defineOperation({
  name: 'sessions.getState',
  kind: 'read',
  statements: { state: pluck('SELECT state FROM sessions WHERE id = ?') },
  run({ st }, [id, key]: readonly [string, string | null]): JsonValue | undefined {
    const text = st.state.get(id) as string | undefined;
    if (text === undefined) return undefined;
    const state = JSON.parse(text) as JsonObject;
    if (key === null) return state;
    // Keys are looked up as plain object keys, so 'user:alice:theme' needs no path quoting.
    return Object.hasOwn(state, key) ? state[key] : undefined;
  },
});

export const sessionsSetState = defineOperation({
  name: 'sessions.setState',
  kind: 'write',
  statements: {
    merge: `UPDATE sessions SET state = json_patch(state, ?), last_update_time = ${NOW} WHERE id = ? RETURNING state, octet_length(state) AS bytes`,
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, delta, maxStateBytes, ctx]: readonly [string, string, number, AuditContext | undefined]): JsonObject {
    const row = st.merge.get(delta, id) as { state: string; bytes: number } | undefined;
    if (row === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    checkStateBytes(id, row.bytes, maxStateBytes);
    writeAudit(st.audit, ctx, { action: 'session_set_state', data: { sessionId: id } });
    return JSON.parse(row.state) as JsonObject;
  },
});

// Lists are newest first, keyset-paginated on (created_at DESC, rowid DESC): a page is
// one range of the index, whatever page it is (SQLite sorts only rows that share a
// created_at, the index's last term). The rowid follows the columns. A listed session
// carries its newest `lastEvents` events (0, the service's default: none), never its
// whole log: a page of 50 would otherwise read 50 whole logs.
type ListArgs = readonly [owner: string, limit: number, after: readonly [string, number] | null, lastEvents: number];

/** A session list by one owner column (user_id or project_id), served by its index. */
const listBy = (name: string, column: 'user_id' | 'project_id') =>
  defineOperation({
    name,
    kind: 'read',
    statements: {
      first: raw(`SELECT ${SESSIONS.columns}, rowid FROM sessions WHERE ${column} = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`),
      last: LAST_EVENTS,
      next: raw(
        `SELECT ${SESSIONS.columns}, rowid FROM sessions WHERE ${column} = @owner AND created_at <= @at ` +
          'AND (created_at < @at OR rowid < @rid) ORDER BY created_at DESC, rowid DESC LIMIT @limit',
      ),
    },
    run({ st }, [owner, limit, after, lastEvents]: ListArgs): Page<Session> {
      const rows = (after === null
        ? st.first.all(owner, limit + 1)
        : st.next.all({ owner, at: after[0], rid: after[1], limit: limit + 1 })) as RawRow[];
      // The rowid is selected after the session's columns.
      return toPage(
        rows,
        limit,
        (row) => {
          const info = SESSIONS.decode(row);
          const events = lastEvents === 0 ? [] : (st.last.all(info.id, lastEvents) as string[]).reverse();
          return withEvents(info, events);
        },
        (session, row) => [session.createdAt, SESSIONS.after(row) as number],
      );
    },
  });

export const sessionsListByUser = listBy('sessions.listByUser', 'user_id');
export const sessionsListByProject = listBy('sessions.listByProject', 'project_id');

export const sessionsDelete = defineOperation({
  name: 'sessions.delete',
  kind: 'write',
  statements: {
    // ON DELETE SET NULL detaches the session's tasks, agents and checkpoints.
    delete: pluck('DELETE FROM sessions WHERE id = ? RETURNING id'),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, ctx]: readonly [string, AuditContext | undefined]): void {
    if (st.delete.get(id) === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    writeAudit(st.audit, ctx, { action: 'session_delete', data: { sessionId: id } });
  },
});

export const sessionOperations = [
  sessionsCreate,
  sessionsGet,
  ...sessionEventOperations,
  sessionsSetStatus,
  sessionsGetState,
  sessionsSetState,
  sessionsListByUser,
  sessionsListByProject,
  sessionsDelete,
];
