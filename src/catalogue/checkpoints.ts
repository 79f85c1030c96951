import type { AuditContext, Checkpoint, Page } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, raw } from './operation.js';
import { CHECKPOINTS } from './tables.js';
import type { RawRow } from './table.js';
import { conflictOnDuplicate } from './sql.js';

type SaveArgs = readonly [taskId: string, iteration: number, state: string, sessionId: string | null, ctx: AuditContext | undefined];

export const checkpointsSave = defineOperation({
  name: 'checkpoints.save',
  kind: 'write',
  parents: [
    { field: 'taskId', table: 'tasks', id: ([taskId]: SaveArgs) => taskId },
    { field: 'sessionId', table: 'sessions', id: ([, , , sessionId]: SaveArgs) => sessionId },
  ],
  statements: {
    insert: raw(
      `INSERT INTO checkpoints (task_id, iteration, state, session_id) VALUES (?, ?, ?, ?) RETURNING ${CHECKPOINTS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [taskId, iteration, state, sessionId, ctx]: SaveArgs): Checkpoint {
    const row = conflictOnDuplicate(`task ${taskId} already has checkpoint ${iteration}`, () =>
      st.insert.get(taskId, iteration, state, sessionId),
    ) as RawRow;
    writeAudit(st.audit, { ...ctx, taskId: ctx?.taskId ?? taskId }, {
      action: 'checkpoint_save',
      data: { taskId, iteration },
    });
    return CHECKPOINTS.decode(row);
  },
});

export const checkpointsGet = defineOperation({
  name: 'checkpoints.get',
  kind: 'read',
  statements: { one: raw(`SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = ? AND iteration = ?`) },
  run({ st }, [taskId, iteration]: readonly [string, number]): Checkpoint | undefined {
    const row = st.one.get(taskId, iteration) as RawRow | undefined;
    return row === undefined ? undefined : CHECKPOINTS.decode(row);
  },
});

export const checkpointsLatest = defineOperation({
  name: 'checkpoints.latest',
  kind: 'read',
  statements: {
    latest: raw(`SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = ? ORDER BY iteration DESC LIMIT 1`),
  },
  run({ st }, [taskId]: readonly [string]): Checkpoint | undefined {
    const row = st.latest.get(taskId) as RawRow | undefined;
    return row === undefined ? undefined : CHECKPOINTS.decode(row);
  },
});

export const checkpointsList = defineOperation({
  name: 'checkpoints.list',
  kind: 'read',
  statements: {
    first: raw(`SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = ? ORDER BY iteration DESC LIMIT ?`),
    next: raw(
      `SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = ? AND iteration < ? ORDER BY iteration DESC LIMIT ?`,
    ),
  },
  run({ st }, [taskId, limit, after]: readonly [string, number, readonly [number] | null]): Page<Checkpoint> {
    const rows = (after === null
      ? st.first.all(taskId, limit + 1)
      : st.next.all(taskId, after[0], limit + 1)) as RawRow[];
    return toPage(rows, limit, CHECKPOINTS.decode, (checkpoint) => [checkpoint.iteration]);
  },
});

export const checkpointOperations = [checkpointsSave, checkpointsGet, checkpointsLatest, checkpointsList];
