import type { JsonValue } from '../../api/types.js';
import { STATE } from '../../catalogue/tables.js';
import { stateGet, stateSet } from '../../catalogue/state.js';
import { implement } from '../operation.js';
import { NOW } from './sql.js';

export const pgStateGet = implement(stateGet, {
  statements: { value: 'SELECT value FROM state WHERE task_id = $1 AND key = $2' },
  async run(q, [taskId, key]) {
    const text = (await q.value('value', [taskId, key])) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  },
});

export const pgStateSet = implement(stateSet, {
  statements: {
    upsert:
      'INSERT INTO state (task_id, key, value) VALUES ($1, $2, $3::jsonb) ' +
      `ON CONFLICT (task_id, key) DO UPDATE SET value = excluded.value, updated_at = ${NOW} RETURNING ${STATE.columns}`,
  },
  async run(q, [taskId, key, value, ctx]) {
    const row = (await q.one('upsert', [taskId, key, value]))!;
    await q.audit({ ...ctx, taskId: ctx?.taskId ?? taskId }, { action: 'state_set', data: { taskId, key } });
    return STATE.decode(row);
  },
});

export const pgStateOperations = [pgStateGet, pgStateSet];
