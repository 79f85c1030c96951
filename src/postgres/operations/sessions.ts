import { StoreError } from '../../api/errors.js';
import type { JsonObject, Session, SessionStatus } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import { sessionFromRow, type RawRow } from '../../catalogue/rows.js';
import {
  SESSION_TRANSITIONS,
  sessionMiss,
  sessionsAppendEvent,
  sessionsCreate,
  sessionsDelete,
  sessionsGet,
  sessionsGetState,
  sessionsListByProject,
  sessionsListByUser,
  sessionsSetState,
  sessionsSetStatus,
} from '../../catalogue/sessions.js';
import { implement } from '../operation.js';
import { conflictOnDuplicate } from './conflict.js';
import { allSessionEvents, NOW, sessionColumns, sessionEvents } from './sql.js';

const ALL_EVENTS = allSessionEvents('s');
const NO_EVENTS = "'[]'::jsonb";
/** Positions in the session columns, and the rowid selected after them in lists. */
const CREATED_AT = 8;
const ROWID = 12;

export const pgSessionsCreate = implement(sessionsCreate, {
  statements: {
    insert:
      'INSERT INTO sessions AS s (id, app_name, user_id, project_id, state, metadata) ' +
      `VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb) RETURNING ${sessionColumns('s', NO_EVENTS)}`,
  },
  async run(q, [id, appName, userId, projectId, state, metadata, ctx]) {
    const row = await conflictOnDuplicate(
      `session ${id} already exists`,
      q.one('insert', [id, appName, userId, projectId, state, metadata]),
    );
    await q.audit(ctx, { action: 'session_create', data: { sessionId: id } });
    return sessionFromRow(row!);
  },
});

export const pgSessionsGet = implement(sessionsGet, {
  statements: {
    // One statement, one snapshot: the row and its newest events ($2 NULL: all of them).
    byId: `SELECT ${sessionColumns('s', sessionEvents('s', '$2'))} FROM sessions AS s WHERE s.id = $1`,
  },
  async run(q, [id, lastEvents]) {
    const row = await q.one('byId', [id, lastEvents]);
    return row === undefined ? undefined : sessionFromRow(row);
  },
});

export const pgSessionsAppendEvent = implement(sessionsAppendEvent, {
  statements: {
    // The session row's lock orders appends: each takes the next seq.
    bump:
      `UPDATE sessions SET event_count = event_count + 1, last_update_time = ${NOW}, ` +
      'state = CASE WHEN $2::jsonb IS NULL THEN state ELSE jsonb_merge_patch(state, $2::jsonb) END ' +
      "WHERE id = $1 AND status IN ('created', 'active', 'paused') RETURNING event_count, last_update_time",
    insert: 'INSERT INTO session_events (session_id, seq, event) VALUES ($1, $2, $3::jsonb)',
    status: 'SELECT status FROM sessions WHERE id = $1',
  },
  async run(q, [id, event, stateDelta, ctx]) {
    const row = await q.one('bump', [id, stateDelta]);
    if (row === undefined) throw sessionMiss(await q.value('status', [id]), id, 'append an event to');
    const eventCount = row[0] as number;
    await q.all('insert', [id, eventCount, event]);
    await q.audit(ctx, {
      action: 'session_append_event',
      data: { sessionId: id, eventCount, stateDelta: stateDelta !== null },
    });
    return { eventCount, lastUpdateTime: row[1] as string };
  },
});

export const pgSessionsSetStatus = implement(sessionsSetStatus, {
  statements: {
    // Locked: the move is checked against the status it replaces.
    status: 'SELECT status FROM sessions WHERE id = $1 FOR UPDATE',
    update:
      `UPDATE sessions AS s SET status = $2, last_update_time = ${NOW}, ` +
      `terminated_at = CASE WHEN $2 = 'terminated' THEN ${NOW} ELSE terminated_at END, ` +
      `archived_at = CASE WHEN $2 = 'archived' THEN ${NOW} ELSE archived_at END ` +
      `WHERE id = $1 RETURNING ${sessionColumns('s', ALL_EVENTS)}`,
  },
  async run(q, [id, status, ctx]) {
    const current = (await q.value('status', [id])) as SessionStatus | undefined;
    if (current === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    if (!SESSION_TRANSITIONS[current].includes(status)) {
      throw new StoreError('INVALID_STATE', `session ${id} cannot move from ${current} to ${status}`);
    }
    const row = await q.one('update', [id, status]);
    await q.audit(ctx, { action: 'session_set_status', data: { sessionId: id, from: current, to: status } });
    return sessionFromRow(row!);
  },
});

export const pgSessionsGetState = implement(sessionsGetState, {
  statements: { state: 'SELECT state FROM sessions WHERE id = $1' },
  async run(q, [id, key]) {
    const text = (await q.value('state', [id])) as string | undefined;
    if (text === undefined) return undefined;
    const state = JSON.parse(text) as JsonObject;
    if (key === null) return state;
    return Object.hasOwn(state, key) ? state[key] : undefined;
  },
});

export const pgSessionsSetState = implement(sessionsSetState, {
  statements: {
    merge: `UPDATE sessions SET state = jsonb_merge_patch(state, $2::jsonb), last_update_time = ${NOW} WHERE id = $1 RETURNING state`,
  },
  async run(q, [id, delta, ctx]) {
    const text = (await q.value('merge', [id, delta])) as string | undefined;
    if (text === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    await q.audit(ctx, { action: 'session_set_state', data: { sessionId: id } });
    return JSON.parse(text) as JsonObject;
  },
});

// Newest first on (created_at DESC, rowid DESC), served by the owner's index, which ends
// in those two columns: a page is one range of it.
const listBy = (operation: typeof sessionsListByUser, column: 'user_id' | 'project_id') =>
  implement(operation, {
    statements: {
      first:
        `SELECT ${sessionColumns('s', sessionEvents('s', '$3'))}, s.rowid FROM sessions AS s ` +
        `WHERE s.${column} = $1 ORDER BY s.created_at DESC, s.rowid DESC LIMIT $2`,
      next:
        `SELECT ${sessionColumns('s', sessionEvents('s', '$3'))}, s.rowid FROM sessions AS s ` +
        `WHERE s.${column} = $1 AND (s.created_at, s.rowid) < ($4::timestamptz, $5::bigint) ` +
        'ORDER BY s.created_at DESC, s.rowid DESC LIMIT $2',
    },
    async run(q, [owner, limit, after, lastEvents]) {
      const rows: RawRow[] =
        after === null
          ? await q.all('first', [owner, limit + 1, lastEvents])
          : await q.all('next', [owner, limit + 1, lastEvents, after[0], after[1]]);
      return toPage<RawRow, Session>(rows, limit, sessionFromRow, (row) => [row[CREATED_AT] as string, row[ROWID] as number]);
    },
  });

export const pgSessionsListByUser = listBy(sessionsListByUser, 'user_id');
export const pgSessionsListByProject = listBy(sessionsListByProject, 'project_id');

export const pgSessionsDelete = implement(sessionsDelete, {
  statements: {
    // ON DELETE SET NULL detaches the session's tasks, agents and checkpoints; its events go with it.
    delete: 'DELETE FROM sessions WHERE id = $1 RETURNING id',
  },
  async run(q, [id, ctx]) {
    if ((await q.one('delete', [id])) === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    await q.audit(ctx, { action: 'session_delete', data: { sessionId: id } });
  },
});

export const pgSessionOperations = [
  pgSessionsCreate,
  pgSessionsGet,
  pgSessionsAppendEvent,
  pgSessionsSetStatus,
  pgSessionsGetState,
  pgSessionsSetState,
  pgSessionsListByUser,
  pgSessionsListByProject,
  pgSessionsDelete,
];
