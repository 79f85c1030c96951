import { StoreError } from '../api/errors.js';
import type { AuditContext, JsonObject, JsonValue, Page, Session, SessionStatus, Timestamp } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import { SESSION_COLUMNS, sessionFromRow, type RawRow } from './rows.js';
import { conflictOnDuplicate, NOW } from './sql.js';

/** Moves the session lifecycle allows: created → active → (paused ↔ active) → terminated → archived. */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  created: ['active', 'terminated'],
  active: ['paused', 'terminated'],
  paused: ['active', 'terminated'],
  terminated: ['archived'],
  archived: [],
};

const STATUS = pluck('SELECT status FROM sessions WHERE id = ?');

function withLastEvents(session: Session, lastEvents: number | null): Session {
  if (lastEvents !== null) session.events = lastEvents === 0 ? [] : session.events.slice(-lastEvents);
  return session;
}

/** Why a write to a session matched no row: it is missing, or its status forbids the write. */
export function sessionMiss(status: unknown, id: string, action: string): StoreError {
  return status === undefined
    ? new StoreError('NOT_FOUND', `session ${id} does not exist`)
    : new StoreError('INVALID_STATE', `cannot ${action} session ${id}: it is ${String(status)}`);
}

export const sessionsCreate = defineOperation({
  name: 'sessions.create',
  kind: 'write',
  statements: {
    insert: raw(
      'INSERT INTO sessions (id, app_name, user_id, project_id, state, metadata) ' +
        `VALUES (?, ?, ?, ?, ?, ?) RETURNING ${SESSION_COLUMNS}`,
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
    return sessionFromRow(row);
  },
});

export const sessionsGet = defineOperation({
  name: 'sessions.get',
  kind: 'read',
  statements: { byId: raw(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`) },
  run({ st }, [id, lastEvents]: readonly [string, number | null]): Session | undefined {
    const row = st.byId.get(id) as RawRow | undefined;
    return row === undefined ? undefined : withLastEvents(sessionFromRow(row), lastEvents);
  },
});

export const sessionsAppendEvent = defineOperation({
  name: 'sessions.appendEvent',
  kind: 'write',
  statements: {
    // Append and merge in SQL, in one statement: no read-modify-write round trip.
    append:
      `UPDATE sessions SET events = json_insert(events, '$[#]', json(@event)), ` +
      `state = CASE WHEN @delta IS NULL THEN state ELSE json_patch(state, @delta) END, ` +
      `last_update_time = ${NOW} ` +
      `WHERE id = @id AND status IN ('created', 'active', 'paused') ` +
      'RETURNING json_array_length(events) AS eventCount, last_update_time AS lastUpdateTime',
    status: STATUS,
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [id, event, stateDelta, ctx]: readonly [string, string, string | null, AuditContext | undefined],
  ): { eventCount: number; lastUpdateTime: Timestamp } {
    const row = st.append.get({ event, delta: stateDelta, id }) as { eventCount: number; lastUpdateTime: string } | undefined;
    if (row === undefined) throw sessionMiss(st.status.get(id), id, 'append an event to');
    writeAudit(st.audit, ctx, {
      action: 'session_append_event',
      data: { sessionId: id, eventCount: row.eventCount, stateDelta: stateDelta !== null },
    });
    return { eventCount: row.eventCount, lastUpdateTime: row.lastUpdateTime };
  },
});

export const sessionsSetStatus = defineOperation({
  name: 'sessions.setStatus',
  kind: 'write',
  statements: {
    status: STATUS,
    update: raw(
      `UPDATE sessions SET status = @status, last_update_time = ${NOW}, ` +
        `terminated_at = CASE WHEN @status = 'terminated' THEN ${NOW} ELSE terminated_at END, ` +
        `archived_at = CASE WHEN @status = 'archived' THEN ${NOW} ELSE archived_at END ` +
        `WHERE id = @id RETURNING ${SESSION_COLUMNS}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, status, ctx]: readonly [string, SessionStatus, AuditContext | undefined]): Session {
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
    return sessionFromRow(row);
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
    merge: pluck(`UPDATE sessions SET state = json_patch(state, ?), last_update_time = ${NOW} WHERE id = ? RETURNING state`),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, delta, ctx]: readonly [string, string, AuditContext | undefined]): JsonObject {
    const text = st.merge.get(delta, id) as string | undefined;
    if (text === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    writeAudit(st.audit, ctx, { action: 'session_set_state', data: { sessionId: id } });
    return JSON.parse(text) as JsonObject;
  },
});

// Lists are newest first, keyset-paginated on (created_at DESC, rowid DESC): a page is
// one range of the index, whatever page it is (SQLite sorts only rows that share a
// created_at, the index's last term). The rowid follows the columns.
type ListArgs = readonly [owner: string, limit: number, after: readonly [string, number] | null, lastEvents: number | null];

/** A session list by one owner column (user_id or project_id), served by its index. */
const listBy = (name: string, column: 'user_id' | 'project_id') =>
  defineOperation({
    name,
    kind: 'read',
    statements: {
      first: raw(`SELECT ${SESSION_COLUMNS}, rowid FROM sessions WHERE ${column} = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`),
      next: raw(
        `SELECT ${SESSION_COLUMNS}, rowid FROM sessions WHERE ${column} = @owner AND created_at <= @at ` +
          'AND (created_at < @at OR rowid < @rid) ORDER BY created_at DESC, rowid DESC LIMIT @limit',
      ),
    },
    run({ st }, [owner, limit, after, lastEvents]: ListArgs): Page<Session> {
      const rows = (after === null
        ? st.first.all(owner, limit + 1)
        : st.next.all({ owner, at: after[0], rid: after[1], limit: limit + 1 })) as RawRow[];
      return toPage(
        rows,
        limit,
        (row) => withLastEvents(sessionFromRow(row), lastEvents),
        (row) => [row[8] as string, row[12] as number],
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
  sessionsAppendEvent,
  sessionsSetStatus,
  sessionsGetState,
  sessionsSetState,
  sessionsListByUser,
  sessionsListByProject,
  sessionsDelete,
];
