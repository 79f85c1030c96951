import type { AuditEntry } from '../../api/types.js';
import { auditList } from '../../catalogue/audit.js';
import { toPage } from '../../catalogue/cursor.js';
import type { RawRow } from '../../catalogue/table.js';
import { AUDIT } from '../../catalogue/tables.js';
import { implement } from '../operation.js';

// Newest first, on (timestamp DESC, id DESC): each filter's index ends in those columns,
// so a page is one index range. Parameters: key (where the filter has one), since, limit,
// then the cursor (timestamp, id).
const list = (where: string): { first: string; next: string } => {
  const since = "timestamp >= coalesce($2::timestamptz, '-infinity')";
  return {
    first: `SELECT ${AUDIT.columns} FROM audit WHERE ${where} AND ${since} ORDER BY timestamp DESC, id DESC LIMIT $3`,
    next:
      `SELECT ${AUDIT.columns} FROM audit WHERE ${where} AND ${since} AND (timestamp, id) < ($4::timestamptz, $5::bigint) ` +
      'ORDER BY timestamp DESC, id DESC LIMIT $3',
  };
};

const BY = {
  task: list('task_id = $1'),
  agent: list('agent_id = $1'),
  memoryOperation: list('memory_operation_type = $1'),
  // Two index ranges (the namespace itself, and everything under it) cannot come out in
  // timestamp order together: this one sorts the prefix's rows (see the accepted plans).
  namespacePrefix: list("(memory_namespace = $1 OR (memory_namespace >= $1 || ':' AND memory_namespace < $1 || ';'))"),
  all: list('$1::text IS NULL'),
} as const;

export const pgAuditList = implement(auditList, {
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
  async run(q, [filter, since, limit, after]) {
    const key = filter.by === 'all' ? null : filter.value;
    const params = [key, since, limit + 1];
    const rows =
      after === null ? await q.all(`${filter.by}First`, params) : await q.all(`${filter.by}Next`, [...params, after[0], after[1]]);
    return toPage<RawRow, AuditEntry>(rows, limit, AUDIT.decode, (entry) => [entry.timestamp, entry.id]);
  },
});

export const pgAuditOperations = [pgAuditList];
