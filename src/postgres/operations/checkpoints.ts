import type { Checkpoint } from '../../api/types.js';
import { checkpointsGet, checkpointsLatest, checkpointsList, checkpointsSave } from '../../catalogue/checkpoints.js';
import { toPage } from '../../catalogue/cursor.js';
import type { RawRow } from '../../catalogue/table.js';
import { CHECKPOINTS } from '../../catalogue/tables.js';
import { implement } from '../operation.js';
import { conflictOnDuplicate } from './conflict.js';

export const pgCheckpointsSave = implement(checkpointsSave, {
  statements: {
    insert: `INSERT INTO checkpoints (task_id, iteration, state, session_id) VALUES ($1, $2, $3::jsonb, $4) RETURNING ${CHECKPOINTS.columns}`,
  },
  async run(q, [taskId, iteration, state, sessionId, ctx]) {
    const row = await conflictOnDuplicate(`task ${taskId} already has checkpoint ${iteration}`, q.one('insert', [taskId, iteration, state, sessionId]));
    await q.audit({ ...ctx, taskId: ctx?.taskId ?? taskId }, { action: 'checkpoint_save', data: { taskId, iteration } });
    return CHECKPOINTS.decode(row!);
  },
});

export const pgCheckpointsGet = implement(checkpointsGet, {
  statements: { one: `SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = $1 AND iteration = $2` },
  async run(q, [taskId, iteration]) {
    const row = await q.one('one', [taskId, iteration]);
    return row === undefined ? undefined : CHECKPOINTS.decode(row);
  },
});

export const pgCheckpointsLatest = implement(checkpointsLatest, {
  statements: { latest: `SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = $1 ORDER BY iteration DESC LIMIT 1` },
  async run(q, [taskId]) {
    const row = await q.one('latest', [taskId]);
    return row === undefined ? undefined : CHECKPOINTS.decode(row);
  },
});

export const pgCheckpointsList = implement(checkpointsList, {
  statements: {
    first: `SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = $1 ORDER BY iteration DESC LIMIT $2`,
    next: `SELECT ${CHECKPOINTS.columns} FROM checkpoints WHERE task_id = $1 AND iteration < $3 ORDER BY iteration DESC LIMIT $2`,
  },
  async run(q, [taskId, limit, after]) {
    const rows = after === null ? await q.all('first', [taskId, limit + 1]) : await q.all('next', [taskId, limit + 1, after[0]]);
    return toPage<RawRow, Checkpoint>(rows, limit, CHECKPOINTS.decode, (checkpoint) => [checkpoint.iteration]);
  },
});

export const pgCheckpointOperations = [pgCheckpointsSave, pgCheckpointsGet, pgCheckpointsLatest, pgCheckpointsList];
