import type { Statement } from 'better-sqlite3';
import type { AuditContext, JsonValue, MemoryOperationType } from '../api/types.js';

/** The one audit insert every write operation runs, in the same transaction as its writes. */
export const AUDIT_INSERT =
  'INSERT INTO audit (agent_id, task_id, action_type, action_data, result, ' +
  'memory_operation_type, memory_namespace, memory_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

export interface AuditRecord {
  action: string;
  data?: JsonValue;
  result?: string;
  memory?: { operation: MemoryOperationType; namespace: string; entryId: number | null };
}

/**
 * The audit row's parameters, in the insert's column order: one definition for both
 * engines' inserts (this file's AUDIT_INSERT, and PG_AUDIT_INSERT in src/postgres/operation.ts,
 * which differs only in its placeholders and the jsonb cast).
 */
export function auditParams(ctx: AuditContext | undefined, record: AuditRecord): unknown[] {
  return [
    ctx?.agentId ?? null,
    ctx?.taskId ?? null,
    record.action,
    record.data === undefined ? null : JSON.stringify(record.data),
    record.result ?? 'ok',
    record.memory?.operation ?? null,
    record.memory?.namespace ?? null,
    record.memory?.entryId ?? null,
  ];
}

/** Writes the audit row of a write operation: it commits, or is undone, with the operation's writes. */
export function writeAudit(insert: Statement, ctx: AuditContext | undefined, record: AuditRecord): void {
  // better-sqlite3 binds an array's elements as the anonymous parameters, in order.
  insert.run(auditParams(ctx, record));
}
