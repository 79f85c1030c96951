import { StoreError } from '../api/errors.js';
import type { AuditContext } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { pluck, raw, type Prepared } from './operation.js';
import { NOW } from './sql.js';

// Leases (schema version 7). A claim writes its holder, a token and when its lease ends;
// a heartbeat moves the end; a lease that ended hands its task back. Expiry is applied
// by the writes that care, in their own transaction, so no timer thread and no sweeper
// runs: a claim first expires every lease that has ended, and a call naming a token
// first expires that task's lease if it has ended (its token is then no longer the
// task's claim and the call is refused).

/** The time `ms` milliseconds from now (an SQL expression of the statement's parameters), as the schema stores times. */
export const leaseEnd = (ms: string): string => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (${ms} / 1000.0) || ' seconds')`;

/** A task whose retries are left goes back to pending without a claim; one that fails for good keeps who held it last. */
export const CLEAR_CLAIM_ON_RETRY = (retrying: string): string =>
  `claimed_by = CASE WHEN ${retrying} THEN NULL ELSE claimed_by END, claim_token = NULL, lease_ms = NULL, lease_expires_at = NULL`;

/** What an ended lease does to its task: back to pending with one more retry counted, or failed once they are spent. */
const EXPIRE_SET =
  `last_updated_at = ${NOW}, ` +
  "status = CASE WHEN retry_count < max_retries THEN 'pending' ELSE 'failed' END, " +
  "error_message = 'lease expired: held by ' || coalesce(claimed_by, 'an unnamed agent') || ' until ' || lease_expires_at, " +
  'retry_count = CASE WHEN retry_count < max_retries THEN retry_count + 1 ELSE retry_count END, ' +
  'started_at = CASE WHEN retry_count < max_retries THEN NULL ELSE started_at END, ' +
  `completed_at = CASE WHEN retry_count < max_retries THEN NULL ELSE ${NOW} END, ` +
  CLEAR_CLAIM_ON_RETRY('retry_count < max_retries');

/** How many ended leases one claim hands back; the rest go at the next claims. */
const EXPIRE_BATCH = 100;

const EXPIRED_RETURNING = 'RETURNING id, status, retry_count, error_message';

/** The statements a claim adds to expire leases and to tell a waiting claim when the next one ends. */
export const LEASE_STATEMENTS = {
  expire: raw(
    `UPDATE tasks SET ${EXPIRE_SET} WHERE rowid IN (SELECT rowid FROM tasks INDEXED BY idx_tasks_lease_expiry WHERE status = 'running' ` +
      `AND lease_expires_at IS NOT NULL AND lease_expires_at <= ${NOW} ORDER BY lease_expires_at LIMIT ${EXPIRE_BATCH}) ${EXPIRED_RETURNING}`,
  ),
  nextExpiry: pluck("SELECT min(lease_expires_at) FROM tasks WHERE status = 'running' AND lease_expires_at IS NOT NULL"),
  expiryAudit: AUDIT_INSERT,
} as const;

/** The statements a call naming a claim token adds: one task's ended lease, and what the task is now. */
export const FENCE_STATEMENTS = {
  expireOne: raw(
    `UPDATE tasks SET ${EXPIRE_SET} WHERE id = ? AND status = 'running' AND lease_expires_at IS NOT NULL ` +
      `AND lease_expires_at <= ${NOW} ${EXPIRED_RETURNING}`,
  ),
  claimOf: raw('SELECT status, claim_token FROM tasks WHERE id = ?'),
  expiryAudit: AUDIT_INSERT,
} as const;

type ExpiredRow = [id: string, status: string, retryCount: number, error: string];

function auditExpiry(st: Prepared<{ expiryAudit: string }>, row: ExpiredRow, ctx: AuditContext | undefined): void {
  const [taskId, status, retryCount, error] = row;
  // Under the task; the agent whose call noticed the expiry is named, not blamed.
  writeAudit(st.expiryAudit, { taskId }, {
    action: 'task_lease_expired',
    data: { taskId, retryCount, error, noticedBy: ctx?.agentId ?? null },
    result: status,
  });
}

/** Hands back the tasks whose leases have ended (up to a batch), each audited `task_lease_expired`. */
export function expireLeases(st: Prepared<typeof LEASE_STATEMENTS>, ctx: AuditContext | undefined): void {
  for (const row of st.expire.all() as ExpiredRow[]) auditExpiry(st, row, ctx);
}

/** Hands back task `id` if its lease has ended. */
export function expireLeaseOf(st: Prepared<typeof FENCE_STATEMENTS>, id: string, ctx: AuditContext | undefined): void {
  const row = st.expireOne.get(id) as ExpiredRow | undefined;
  if (row !== undefined) auditExpiry(st, row, ctx);
}

/**
 * Why a complete, fail or heartbeat matched no row. Given a token, any miss on a task that
 * exists is CONFLICT: the token is not the task's current claim (claimed again, its lease
 * ended, or finished since). Without one, the task is missing or not running.
 */
export function finishMiss(st: Prepared<typeof FENCE_STATEMENTS>, id: string, token: string | null, action: string): StoreError {
  return missReason(st.claimOf.get(id) as TaskClaim | undefined, id, token, action);
}

/** A task's status and claim token, as a miss is explained from. */
export type TaskClaim = readonly [status: string, claimToken: string | null];

/** {@link finishMiss}'s reasoning, for both engines: `found` is the task's status and token, or undefined when it does not exist. */
export function missReason(found: TaskClaim | undefined, id: string, token: string | null, action: string): StoreError {
  if (found === undefined) return new StoreError('NOT_FOUND', `task ${id} does not exist`);
  const [status, current] = found;
  if (token === null) return new StoreError('INVALID_STATE', `cannot ${action} task ${id}: it is ${status}, not running`);
  const now =
    status !== 'running'
      ? `it is ${status} now`
      : current === null
        ? 'it is running without a lease'
        : 'it has been claimed again since';
  return new StoreError('CONFLICT', `cannot ${action} task ${id}: claim ${token} is no longer its claim (${now})`);
}
