import type { AuditContext } from '../../api/types.js';
import { missReason, type TaskClaim } from '../../catalogue/task-leases.js';
import type { StoreError } from '../../api/errors.js';
import type { PgQueries } from '../operation.js';
import { NOW } from './sql.js';

// Leases on PostgreSQL: the statements of src/catalogue/task-leases.ts, and the same rules.

/** `ms` milliseconds (an SQL expression) from now. */
export const leaseEnd = (ms: string): string => `${NOW} + (${ms}) * interval '1 millisecond'`;

/** A task whose retries are left goes back to pending without a claim; one that fails for good keeps who held it last. */
export const clearClaimOnRetry = (retrying: string): string =>
  `claimed_by = CASE WHEN ${retrying} THEN NULL ELSE claimed_by END, claim_token = NULL, lease_ms = NULL, lease_expires_at = NULL`;

const ISO = `to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const EXPIRE_SET =
  `last_updated_at = ${NOW}, ` +
  "status = CASE WHEN retry_count < max_retries THEN 'pending' ELSE 'failed' END, " +
  `error_message = 'lease expired: held by ' || coalesce(claimed_by, 'an unnamed agent') || ' until ' || ${ISO}, ` +
  'retry_count = CASE WHEN retry_count < max_retries THEN retry_count + 1 ELSE retry_count END, ' +
  'started_at = CASE WHEN retry_count < max_retries THEN NULL ELSE started_at END, ' +
  `completed_at = CASE WHEN retry_count < max_retries THEN NULL ELSE ${NOW} END, ` +
  clearClaimOnRetry('retry_count < max_retries');

const EXPIRED_RETURNING = 'RETURNING id, status, retry_count, error_message';

/** A claim's: the ended leases (a batch; SKIP LOCKED passes over those another host is handing back), and when the next ends. */
export const PG_LEASE_STATEMENTS = {
  expire:
    `UPDATE tasks SET ${EXPIRE_SET} WHERE id IN (SELECT id FROM tasks WHERE status = 'running' AND lease_expires_at IS NOT NULL ` +
    `AND lease_expires_at <= ${NOW} ORDER BY lease_expires_at LIMIT 100 FOR UPDATE SKIP LOCKED) ${EXPIRED_RETURNING}`,
  nextExpiry: "SELECT min(lease_expires_at) FROM tasks WHERE status = 'running' AND lease_expires_at IS NOT NULL",
} as const;

/** A call naming a token: that task's ended lease, and what the task is now. */
export const PG_FENCE_STATEMENTS = {
  expireOne:
    `UPDATE tasks SET ${EXPIRE_SET} WHERE id = $1 AND status = 'running' AND lease_expires_at IS NOT NULL ` +
    `AND lease_expires_at <= ${NOW} ${EXPIRED_RETURNING}`,
  claimOf: 'SELECT status, claim_token FROM tasks WHERE id = $1',
} as const;

export type ExpiredRow = [id: string, status: string, retryCount: number, error: string];

async function auditExpiry(q: PgQueries<Record<string, string>>, row: ExpiredRow, ctx: AuditContext | undefined): Promise<void> {
  const [taskId, status, retryCount, error] = row;
  await q.audit({ taskId }, {
    action: 'task_lease_expired',
    data: { taskId, retryCount, error, noticedBy: ctx?.agentId ?? null },
    result: status,
  });
}

/** Hands back the ended leases (sent at once; the rows come when awaited): audit them with {@link pgAuditExpired}. */
export async function pgSweepLeases(q: PgQueries<typeof PG_LEASE_STATEMENTS>): Promise<ExpiredRow[]> {
  return (await q.all('expire')) as ExpiredRow[];
}

export async function pgAuditExpired(q: PgQueries<Record<string, string>>, rows: readonly ExpiredRow[], ctx: AuditContext | undefined): Promise<void> {
  for (const row of rows) await auditExpiry(q, row, ctx);
}

export async function pgExpireLeaseOf(q: PgQueries<typeof PG_FENCE_STATEMENTS>, id: string, ctx: AuditContext | undefined): Promise<void> {
  const row = (await q.one('expireOne', [id])) as ExpiredRow | undefined;
  if (row !== undefined) await auditExpiry(q, row, ctx);
}

export async function pgFinishMiss(q: PgQueries<typeof PG_FENCE_STATEMENTS>, id: string, token: string | null, action: string): Promise<StoreError> {
  return missReason((await q.one('claimOf', [id])) as TaskClaim | undefined, id, token, action);
}
