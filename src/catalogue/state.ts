import type { AuditContext, JsonValue, StateEntry } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { defineOperation, pluck, raw } from './operation.js';
import { STATE } from './tables.js';
import type { RawRow } from './table.js';
import { NOW } from './sql.js';

// The legacy per-task key/value table, kept for compatibility with the seed's schema.

export const stateGet = defineOperation({
  name: 'state.get',
  kind: 'read',
  statements: { value: pluck('SELECT value FROM state WHERE task_id = ? AND key = ?') },
  run({ st }, [taskId, key]: readonly [string, string]): JsonValue | undefined {
    const text = st.value.get(taskId, key) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  },
});

type SetArgs = readonly [taskId: string, key: string, value: string, ctx: AuditContext | undefined];

export const stateSet = defineOperation({
  name: 'state.set',
  kind: 'write',
  parents: [{ field: 'taskId', table: 'tasks', id: ([taskId]: SetArgs) => taskId }],
  statements: {
    upsert: raw(
      'INSERT INTO state (task_id, key, value) VALUES (?, ?, ?) ' +
        `ON CONFLICT (task_id, key) DO UPDATE SET value = excluded.value, updated_at = ${NOW} RETURNING ${STATE.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [taskId, key, value, ctx]: SetArgs): StateEntry {
    const row = st.upsert.get(taskId, key, value) as RawRow;
    writeAudit(st.audit, { ...ctx, taskId: ctx?.taskId ?? taskId }, { action: 'state_set', data: { taskId, key } });
    return STATE.decode(row);
  },
});

export const stateOperations = [stateGet, stateSet];
