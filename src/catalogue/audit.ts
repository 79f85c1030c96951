import type { AuditEntry, MemoryOperationType, Page } from '../api/types.js';
import { toPage } from './cursor.js';
import { defineOperation, raw } from './operation.js';
import { AUDIT } from './tables.js';
import type { RawRow } from './table.js';

export type AuditFilter =
  | { by: 'task'; value: string }
  | { by: 'agent'; value: string }
  | { by: 'memoryOperation'; value: MemoryOperationType }
  | { by: 'namespacePrefix'; value: string }
  | { by: 'all' };

// Newest first, on (timestamp DESC, id DESC): each filter's index gives timestamp order
// within one key, so a page is one index range (SQLite sorts only the rows that share a
// millisecond, by id). Parameters: key, since, at and id (the cursor), limit.
const list = (where: string): { first: ReturnType<typeof raw>; next: ReturnType<typeof raw> } => ({
  first: raw(
    `SELECT ${AUDIT.columns} FROM audit WHERE ${where} AND timestamp >= @since ORDER BY timestamp DESC, id DESC LIMIT @limit`,
  ),
  next: raw(
    `SELECT ${AUDIT.columns} FROM audit WHERE ${where} AND timestamp >= @since AND timestamp <= @at ` +
      'AND (timestamp < @at OR id < @id) ORDER BY timestamp DESC, id DESC LIMIT @limit',
  ),
});

const BY = {
  task: list('task_id = @key'),
  agent: list('agent_id = @key'),
  memoryOperation: list('memory_operation_type = @key'),
  // Two index ranges (the namespace itself, and everything under `prefix:`) cannot come
  // out in timestamp order together: this one sorts (see ACCEPTED_PLANS).
  namespacePrefix: list("(memory_namespace = @key OR (memory_namespace >= @key || ':' AND memory_namespace < @key || ';'))"),
  all: list('@key IS NULL'),
} as const;

export const auditList = defineOperation({
  name: 'audit.list',
  kind: 'read',
  statements: {
    taskFirst: BY.task.first,
    taskNext: BY.task.next,
    agentFirst: BY.agent.first,
    agentNext: BY.agent.next,
    memoryOperationFirst: BY.memoryOperation.first,
    memoryOperationNext: BY.memoryOperation.next,
    namespacePrefixFirst: BY.namespacePrefix.first,
    namespacePrefixNext: BY.namespacePrefix.next,
    allFirst: BY.all.first,
    allNext: BY.all.next,
  },
  run(
    { st },
    [filter, since, limit, after]: readonly [AuditFilter, string | null, number, readonly [string, number] | null],
  ): Page<AuditEntry> {
    const key = filter.by === 'all' ? null : filter.value;
    // '' sorts before every timestamp: no lower bound.
    const params = { key, since: since ?? '', limit: limit + 1 };
    const rows = (after === null
      ? st[`${filter.by}First`].all(params)
      : st[`${filter.by}Next`].all({ ...params, at: after[0], id: after[1] })) as RawRow[];
    return toPage(rows, limit, AUDIT.decode, (entry) => [entry.timestamp, entry.id]);
  },
});

export const auditOperations = [auditList];
