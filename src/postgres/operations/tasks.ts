import { StoreError } from '../../api/errors.js';
import type { AuditContext, Task, TaskStatus } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import type { RawRow } from '../../catalogue/table.js';
import { SESSIONS, TASKS } from '../../catalogue/tables.js';
import {
  tasksCancel,
  tasksClaimNext,
  tasksComplete,
  tasksCreate,
  tasksFail,
  tasksGet,
  tasksGetWithSession,
  tasksHeartbeat,
  tasksListBySession,
  tasksListChildren,
} from '../../catalogue/tasks.js';
import { missingParent } from '../../catalogue/parents.js';
import { implement } from '../operation.js';
import { conflictOnDuplicate } from './conflict.js';
import { NOW } from './sql.js';
import { clearClaimOnRetry, leaseEnd, PG_FENCE_STATEMENTS, PG_LEASE_STATEMENTS, pgAuditExpired, pgExpireLeaseOf, pgFinishMiss, pgSweepLeases } from './task-leases.js';

const STATUS = 'SELECT status FROM tasks WHERE id = $1';

/** Task operations audit under the task itself unless the caller names another. */
const auditUnder = (ctx: AuditContext | undefined, taskId: string): AuditContext => ({ ...ctx, taskId: ctx?.taskId ?? taskId });

function transitionMiss(status: unknown, id: string, action: string, from: readonly TaskStatus[]): StoreError {
  return status === undefined
    ? new StoreError('NOT_FOUND', `task ${id} does not exist`)
    : new StoreError('INVALID_STATE', `cannot ${action} task ${id}: it is ${status as string}, not ${from.join(' or ')}`);
}

export const pgTasksCreate = implement(tasksCreate, {
  statements: {
    // dependencies is a JSON array, which no foreign key can check: the first that does not exist.
    missing: 'SELECT d.id FROM unnest($1::text[]) AS d(id) WHERE NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.id = d.id) LIMIT 1',
    insert:
      'INSERT INTO tasks (id, prompt, input_data, agent_type, priority, parent_task_id, dependencies, session_id, ' +
      'created_by, max_retries, max_execution_timeout_seconds) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) ' +
      `RETURNING ${TASKS.columns}`,
  },
  async run(q, [task, ctx]) {
    if (task.dependencies.length > 0) {
      const dependency = (await q.value('missing', [task.dependencies])) as string | undefined;
      if (dependency !== undefined) throw missingParent('dependencies', 'tasks', dependency);
    }
    const row = await conflictOnDuplicate(
      `task ${task.id} already exists`,
      q.one('insert', [
        task.id,
        task.prompt,
        task.inputData,
        task.agentType,
        task.priority,
        task.parentTaskId,
        JSON.stringify(task.dependencies),
        task.sessionId,
        task.createdBy,
        task.maxRetries,
        task.timeoutSeconds,
      ]),
    );
    await q.audit(auditUnder(ctx, task.id), {
      action: 'task_create',
      data: { taskId: task.id, priority: task.priority, agentType: task.agentType },
    });
    return TASKS.decode(row!);
  },
});

export const pgTasksGet = implement(tasksGet, {
  statements: { byId: `SELECT ${TASKS.columns} FROM tasks WHERE id = $1` },
  async run(q, [id]) {
    const row = await q.one('byId', [id]);
    return row === undefined ? undefined : TASKS.decode(row);
  },
});

export const pgTasksGetWithSession = implement(tasksGetWithSession, {
  statements: {
    join:
      `SELECT ${TASKS.qualified('t')}, ${SESSIONS.qualified('s')} ` +
      'FROM tasks AS t LEFT JOIN sessions AS s ON s.id = t.session_id WHERE t.id = $1',
  },
  async run(q, [id]) {
    const row = await q.one('join', [id]);
    if (row === undefined) return undefined;
    // The session's columns follow the task's; its id is NULL when the task has none.
    const session = TASKS.after(row) === null ? null : SESSIONS.decodeAt(row, TASKS.width);
    return { task: TASKS.decode(row), session };
  },
});

export const pgTasksListBySession = implement(tasksListBySession, {
  statements: {
    first: `SELECT ${TASKS.columns}, rowid FROM tasks WHERE session_id = $1 ORDER BY submitted_at DESC, rowid DESC LIMIT $2`,
    next:
      `SELECT ${TASKS.columns}, rowid FROM tasks WHERE session_id = $1 AND (submitted_at, rowid) < ($3::timestamptz, $4::bigint) ` +
      'ORDER BY submitted_at DESC, rowid DESC LIMIT $2',
  },
  async run(q, [sessionId, limit, after]) {
    const rows =
      after === null ? await q.all('first', [sessionId, limit + 1]) : await q.all('next', [sessionId, limit + 1, after[0], after[1]]);
    return toPage<RawRow, Task>(rows, limit, TASKS.decode, // The rowid is selected after the task's columns.
      (task, row) => [task.submittedAt, TASKS.after(row) as number]);
  },
});

export const pgTasksListChildren = implement(tasksListChildren, {
  statements: {
    first: `SELECT ${TASKS.columns}, rowid FROM tasks WHERE parent_task_id = $1 ORDER BY rowid LIMIT $2`,
    next: `SELECT ${TASKS.columns}, rowid FROM tasks WHERE parent_task_id = $1 AND rowid > $3 ORDER BY rowid LIMIT $2`,
  },
  async run(q, [parentId, limit, after]) {
    const rows = after === null ? await q.all('first', [parentId, limit + 1]) : await q.all('next', [parentId, limit + 1, after[0]]);
    return toPage<RawRow, Task>(rows, limit, TASKS.decode, (_, row) => [TASKS.after(row) as number]);
  },
});

// Claiming walks the priorities from 1 (highest) down and, at the first that has one,
// takes the oldest pending task whose dependencies have all completed; each step is one
// range of idx_tasks_status_priority (status, priority, submitted_at, rowid). FOR UPDATE
// SKIP LOCKED passes over a task another transaction is claiming right now, so
// concurrent claimers, on any host, each take a different task and never wait for each
// other; OF t locks the task, not the dependencies it reads. No ORDER BY over the
// priorities: the nested loop runs them in series order and stops at the first row,
// where an outer sort would run (and lock a row in) every branch.
// Parameters: $1 the claim token, $2 the lease's milliseconds, $3 the holder, $4 the agent type.
const claim = (byAgentType: boolean): string =>
  `UPDATE tasks SET status = 'running', started_at = ${NOW}, last_updated_at = ${NOW}, claimed_by = $3, claim_token = $1, ` +
  `lease_ms = $2, lease_expires_at = ${leaseEnd('$2::integer')} WHERE id = (` +
  'SELECT c.id FROM generate_series(1, 10) AS p(priority) CROSS JOIN LATERAL (' +
  "SELECT t.id FROM tasks AS t WHERE t.status = 'pending' AND t.priority = p.priority" +
  (byAgentType ? ' AND t.agent_type = $4' : '') +
  // The dependencies as an array, looked up by primary key (a join on the set-returning
  // function is planned as a hash join over the whole table).
  " AND NOT EXISTS (SELECT 1 FROM tasks AS dep WHERE dep.id = ANY (ARRAY(SELECT jsonb_array_elements_text(t.dependencies))) " +
  "AND dep.status <> 'completed') " +
  'ORDER BY t.submitted_at, t.rowid LIMIT 1 FOR UPDATE OF t SKIP LOCKED) AS c LIMIT 1) ' +
  `RETURNING ${TASKS.columns}`;

export const pgTasksClaimNext = implement(tasksClaimNext, {
  statements: { ...PG_LEASE_STATEMENTS, any: claim(false), byAgentType: claim(true) },
  async run(q, [agentType, lease, ctx]) {
    const params = [lease.token, lease.leaseMs, lease.holder];
    // One round trip: the lease sweep, the claim and when the next lease ends go out
    // together (with the BEGIN). The server runs them in order, each with a snapshot of its
    // own, so the claim can take a task the sweep just handed back; the next expiry is read
    // even when the claim takes a task (a look at the few running tasks), rather than
    // waited for in a round trip of its own when it does not.
    const [expired, row, next] = await Promise.all([
      pgSweepLeases(q),
      agentType === null ? q.one('any', params) : q.one('byAgentType', [...params, agentType]),
      q.value('nextExpiry'),
    ]);
    await pgAuditExpired(q, expired, ctx);
    if (row === undefined) return { task: undefined, nextLeaseExpiry: (next as string | null | undefined) ?? null };
    const task = TASKS.decode(row);
    await q.audit(auditUnder(ctx, task.id), {
      action: 'task_claim',
      data: { taskId: task.id, priority: task.priority, agentType: task.agentType, claimedBy: lease.holder, leaseExpiresAt: task.leaseExpiresAt },
    });
    return { task, nextLeaseExpiry: null };
  },
});

export const pgTasksComplete = implement(tasksComplete, {
  statements: {
    ...PG_FENCE_STATEMENTS,
    complete:
      `UPDATE tasks SET status = 'completed', result_data = $2::jsonb, completed_at = ${NOW}, last_updated_at = ${NOW} ` +
      `WHERE id = $1 AND status = 'running' AND ($3::text IS NULL OR claim_token = $3) RETURNING ${TASKS.columns}`,
  },
  async run(q, [id, result, token, ctx]) {
    // With a token, the task's ended lease is handed back first, in the same round trip.
    const [, row] = await Promise.all([token !== null ? pgExpireLeaseOf(q, id, ctx) : undefined, q.one('complete', [id, result, token])]);
    if (row === undefined) throw await pgFinishMiss(q, id, token, 'complete');
    await q.audit(auditUnder(ctx, id), { action: 'task_complete', data: { taskId: id }, result: 'completed' });
    return TASKS.decode(row);
  },
});

export const pgTasksFail = implement(tasksFail, {
  statements: {
    ...PG_FENCE_STATEMENTS,
    // With retries left (and retry asked for), the task goes back to pending with one
    // more retry counted and its claim cleared; otherwise it fails for good.
    fail:
      `UPDATE tasks SET error_message = $2, last_updated_at = ${NOW}, ` +
      "status = CASE WHEN $3 AND retry_count < max_retries THEN 'pending' ELSE 'failed' END, " +
      'retry_count = CASE WHEN $3 AND retry_count < max_retries THEN retry_count + 1 ELSE retry_count END, ' +
      'started_at = CASE WHEN $3 AND retry_count < max_retries THEN NULL ELSE started_at END, ' +
      `completed_at = CASE WHEN $3 AND retry_count < max_retries THEN NULL ELSE ${NOW} END, ` +
      clearClaimOnRetry('$3 AND retry_count < max_retries') +
      ` WHERE id = $1 AND status = 'running' AND ($4::text IS NULL OR claim_token = $4) RETURNING ${TASKS.columns}`,
  },
  async run(q, [id, error, retry, token, ctx]) {
    const [, row] = await Promise.all([token !== null ? pgExpireLeaseOf(q, id, ctx) : undefined, q.one('fail', [id, error, retry, token])]);
    if (row === undefined) throw await pgFinishMiss(q, id, token, 'fail');
    const task = TASKS.decode(row);
    await q.audit(auditUnder(ctx, id), {
      action: 'task_fail',
      data: { taskId: id, error, retryCount: task.retryCount },
      result: task.status,
    });
    return task;
  },
});

export const pgTasksHeartbeat = implement(tasksHeartbeat, {
  statements: {
    ...PG_FENCE_STATEMENTS,
    extend:
      `UPDATE tasks SET lease_expires_at = ${leaseEnd('coalesce($3::integer, lease_ms)')}, lease_ms = coalesce($3::integer, lease_ms), ` +
      `last_updated_at = ${NOW} WHERE id = $1 AND status = 'running' AND claim_token = $2 AND lease_expires_at IS NOT NULL ` +
      `RETURNING ${TASKS.columns}`,
  },
  async run(q, [id, token, leaseMs, ctx]) {
    const [, row] = await Promise.all([pgExpireLeaseOf(q, id, ctx), q.one('extend', [id, token, leaseMs])]);
    if (row === undefined) throw await pgFinishMiss(q, id, token, 'heartbeat');
    const task = TASKS.decode(row);
    await q.audit(auditUnder(ctx, id), { action: 'task_heartbeat', data: { taskId: id, leaseExpiresAt: task.leaseExpiresAt } });
    return task;
  },
});

export const pgTasksCancel = implement(tasksCancel, {
  statements: {
    cancel:
      `UPDATE tasks SET status = 'cancelled', completed_at = ${NOW}, last_updated_at = ${NOW} ` +
      `WHERE id = $1 AND status IN ('pending', 'running') RETURNING ${TASKS.columns}`,
    status: STATUS,
  },
  async run(q, [id, ctx]) {
    const row = await q.one('cancel', [id]);
    if (row === undefined) throw transitionMiss(await q.value('status', [id]), id, 'cancel', ['pending', 'running']);
    await q.audit(auditUnder(ctx, id), { action: 'task_cancel', data: { taskId: id }, result: 'cancelled' });
    return TASKS.decode(row);
  },
});

export const pgTaskOperations = [
  pgTasksCreate,
  pgTasksGet,
  pgTasksGetWithSession,
  pgTasksListBySession,
  pgTasksListChildren,
  pgTasksClaimNext,
  pgTasksComplete,
  pgTasksFail,
  pgTasksHeartbeat,
  pgTasksCancel,
];
