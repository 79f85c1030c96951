import { StoreError } from '../../api/errors.js';
import type { JsonObject, Session, SessionStatus } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import { defineTable, type RawRow } from '../../catalogue/table.js';
import { SESSIONS } from '../../catalogue/tables.js';
import { checkStateBytes } from '../../catalogue/session-events.js';
import {
  SESSION_TRANSITIONS,
  sessionsCreate,
  sessionsDelete,
  sessionsGet,
  sessionsGetState,
  sessionsListByProject,
  sessionsListByUser,
  sessionsSetState,
  sessionsSetStatus,
  withEvents,
} from '../../catalogue/sessions.js';
import { implement } from '../operation.js';
import { conflictOnDuplicate } from './conflict.js';
import { pgSessionEventOperations } from './session-events.js';
import { heldParams, heldVersion, NOW, REPLACEMENTS, sessionEvents } from './sql.js';

export const pgSessionsCreate = implement(sessionsCreate, {
  statements: {
    insert:
      'INSERT INTO sessions AS s (id, app_name, user_id, project_id, state, metadata) ' +
      `VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb) RETURNING ${SESSIONS.qualified('s')}`,
  },
  async run(q, [id, appName, userId, projectId, state, metadata, ctx]) {
    const row = await conflictOnDuplicate(`session ${id} already exists`, q.one('insert', [id, appName, userId, projectId, state, metadata]));
    await q.audit(ctx, { action: 'session_create', data: { sessionId: id } });
    return withEvents(SESSIONS.decode(row!), []);
  },
});

// A session read as src/catalogue/session-events.ts's splitEvents splits it: its newest $2
// events (NULL: all) start at `first`; those the caller holds ($3 to $4 of the version $5-$7)
// are held_from to held_to (none: event_count + 1 to event_count). Two ranges of the primary
// key bring the texts of the others.
const SPLIT =
  'CROSS JOIN LATERAL (SELECT greatest(coalesce((SELECT e.seq FROM session_events AS e WHERE e.session_id = s.id ORDER BY e.seq LIMIT 1), ' +
  's.event_count + 1), CASE WHEN $2::int IS NULL THEN 1 ELSE s.event_count - $2::int + 1 END) AS first) AS f ' +
  `CROSS JOIN LATERAL (SELECT ${heldVersion(3)} AND greatest(f.first, $3::int) <= $4::int AS held) AS h ` +
  'CROSS JOIN LATERAL (SELECT CASE WHEN h.held THEN greatest(f.first, $3::int) ELSE s.event_count + 1 END AS held_from, ' +
  'CASE WHEN h.held THEN $4::int ELSE s.event_count END AS held_to) AS w';
const texts = (range: string): string =>
  `ARRAY(SELECT e.event::text FROM session_events AS e WHERE e.session_id = s.id AND ${range} ORDER BY e.seq)`;

export const pgSessionsGet = implement(sessionsGet, {
  statements: {
    // One statement, one snapshot: the row, its version and its newest events.
    byId:
      `SELECT ${SESSIONS.qualified('s')}, s.rowid, v.replacements, f.first, w.held_to - w.held_from + 1, ` +
      `${texts('e.seq >= f.first AND e.seq < w.held_from')}, ${texts('e.seq > w.held_to AND e.seq >= f.first')} ` +
      `FROM sessions AS s CROSS JOIN LATERAL (SELECT ${REPLACEMENTS}) AS v ${SPLIT} WHERE s.id = $1`,
  },
  async run(q, [id, lastEvents, held]) {
    const row = await q.one('byId', [id, lastEvents, ...heldParams(held)]);
    if (row === undefined) return undefined;
    const session = SESSIONS.decode(row);
    // After the session's columns: its rowid and replacements, then its events as EventRange.
    return {
      session,
      version: [SESSIONS.after(row, 0) as number, session.createdAt, SESSIONS.after(row, 1) as number] as const,
      first: SESSIONS.after(row, 2) as number,
      held: SESSIONS.after(row, 3) as number,
      before: SESSIONS.after(row, 4) as string[],
      after: SESSIONS.after(row, 5) as string[],
    };
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
      `WHERE id = $1 RETURNING ${SESSIONS.qualified('s')}`,
  },
  async run(q, [id, status, ctx]) {
    const current = (await q.value('status', [id])) as SessionStatus | undefined;
    if (current === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    if (!SESSION_TRANSITIONS[current].includes(status)) {
      throw new StoreError('INVALID_STATE', `session ${id} cannot move from ${current} to ${status}`);
    }
    const row = await q.one('update', [id, status]);
    await q.audit(ctx, { action: 'session_set_status', data: { sessionId: id, from: current, to: status } });
    return SESSIONS.decode(row!);
  },
});

export const pgSessionsGetState = implement(sessionsGetState, {
  statements: { state: 'SELECT state FROM sessions WHERE id = $1' },
  async run(q, [id, key]) {
    const text = (await q.value('state', [id])) as string | undefined;
    if (text === undefined) return undefined;
    const state = JSON.parse(text) as JsonObject;
    if (key === null) return state;
    // Keys are looked up as plain object keys, so 'user:alice:theme' needs no path quoting.
    return Object.hasOwn(state, key) ? state[key] : undefined;
  },
});

/** What setState's merge returns: the merged state, and its size as stored. */
const MERGED_STATE = defineTable('sessions', { state: 'object', stateBytes: { kind: 'integer', column: 'octet_length(state::text)' } });

export const pgSessionsSetState = implement(sessionsSetState, {
  statements: {
    merge:
      `UPDATE sessions SET state = jsonb_merge_patch(state, $2::jsonb), last_update_time = ${NOW} WHERE id = $1 ` +
      `RETURNING ${MERGED_STATE.columns}`,
  },
  async run(q, [id, delta, maxStateBytes, ctx]) {
    const row = await q.one('merge', [id, delta]);
    if (row === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    // The throw rolls the merge back: nothing is written.
    const { state, stateBytes } = MERGED_STATE.decode(row);
    checkStateBytes(id, stateBytes, maxStateBytes);
    await q.audit(ctx, { action: 'session_set_state', data: { sessionId: id } });
    return state;
  },
});

// Newest first on (created_at DESC, rowid DESC), served by the owner's index, which ends
// in those two columns: a page is one range of it. Each session's newest `lastEvents`
// events come in the same statement; with 0, the lists' default, the LIMIT 0 subquery
// reads none.
const listBy = (operation: typeof sessionsListByUser, column: 'user_id' | 'project_id') =>
  implement(operation, {
    statements: {
      first:
        `SELECT ${SESSIONS.qualified('s')}, s.rowid, ${sessionEvents('s', '$3')} FROM sessions AS s ` +
        `WHERE s.${column} = $1 ORDER BY s.created_at DESC, s.rowid DESC LIMIT $2`,
      next:
        `SELECT ${SESSIONS.qualified('s')}, s.rowid, ${sessionEvents('s', '$3')} FROM sessions AS s ` +
        `WHERE s.${column} = $1 AND (s.created_at, s.rowid) < ($4::timestamptz, $5::bigint) ` +
        'ORDER BY s.created_at DESC, s.rowid DESC LIMIT $2',
    },
    async run(q, [owner, limit, after, lastEvents]) {
      const rows: RawRow[] =
        after === null
          ? await q.all('first', [owner, limit + 1, lastEvents])
          : await q.all('next', [owner, limit + 1, lastEvents, after[0], after[1]]);
      return toPage<RawRow, Session>(
        rows,
        limit,
        // After the session's columns: its rowid, then its events.
        (row) => withEvents(SESSIONS.decode(row), SESSIONS.after(row, 1) as string[]),
        (session, row) => [session.createdAt, SESSIONS.after(row) as number],
      );
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
  ...pgSessionEventOperations,
  pgSessionsSetStatus,
  pgSessionsGetState,
  pgSessionsSetState,
  pgSessionsListByUser,
  pgSessionsListByProject,
  pgSessionsDelete,
];
