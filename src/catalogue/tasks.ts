import { StoreError } from '../api/errors.js';
import type { AuditContext, Page, SessionInfo, Task, TaskStatus } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import { SESSIONS, TASKS } from './tables.js';
import type { RawRow } from './table.js';
import { missingParent } from './parents.js';
import { conflictOnDuplicate, NOW } from './sql.js';
import { CLEAR_CLAIM_ON_RETRY, expireLeaseOf, expireLeases, FENCE_STATEMENTS, finishMiss, LEASE_STATEMENTS, leaseEnd } from './task-leases.js';

const BY_ID = raw(`SELECT ${TASKS.columns} FROM tasks WHERE id = ?`);
const STATUS = pluck('SELECT status FROM tasks WHERE id = ?');

/** Task operations audit under the task itself unless the caller names another. */
const auditUnder = (ctx: AuditContext | undefined, taskId: string): AuditContext => ({ ...ctx, taskId: ctx?.taskId ?? taskId });

/** Why a status change matched no row: the task is missing, or in the wrong status. */
function transitionMiss(status: unknown, id: string, action: string, from: readonly TaskStatus[]): StoreError {
  return status === undefined
    ? new StoreError('NOT_FOUND', `task ${id} does not exist`)
    : new StoreError('INVALID_STATE', `cannot ${action} task ${id}: it is ${status as string}, not ${from.join(' or ')}`);
}

export interface CreateTaskArgs {
  id: string;
  prompt: string;
  inputData: string;
  agentType: string;
  priority: number;
  parentTaskId: string | null;
  dependencies: string[];
  sessionId: string | null;
  createdBy: string | null;
  maxRetries: number;
  timeoutSeconds: number;
}

type CreateArgs = readonly [task: CreateTaskArgs, ctx: AuditContext | undefined];

export const tasksCreate = defineOperation({
  name: 'tasks.create',
  kind: 'write',
  parents: [
    { field: 'parentTaskId', table: 'tasks', id: ([task]: CreateArgs) => task.parentTaskId },
    { field: 'sessionId', table: 'sessions', id: ([task]: CreateArgs) => task.sessionId },
  ],
  statements: {
    exists: pluck('SELECT 1 FROM tasks WHERE id = ?'),
    insert: raw(
      'INSERT INTO tasks (id, prompt, input_data, agent_type, priority, parent_task_id, dependencies, session_id, ' +
        'created_by, max_retries, max_execution_timeout_seconds) VALUES (@id, @prompt, @inputData, @agentType, @priority, ' +
        `@parentTaskId, @dependencies, @sessionId, @createdBy, @maxRetries, @timeoutSeconds) RETURNING ${TASKS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [task, ctx]: CreateArgs): Task {
    // dependencies is a JSON array, which no foreign key can check: check it here, and
    // say it as a missing parent is said.
    for (const dependency of task.dependencies) {
      if (st.exists.get(dependency) === undefined) throw missingParent('dependencies', 'tasks', dependency);
    }
    const row = conflictOnDuplicate(`task ${task.id} already exists`, () =>
      st.insert.get({ ...task, dependencies: JSON.stringify(task.dependencies) }),
    ) as RawRow;
    writeAudit(st.audit, auditUnder(ctx, task.id), {
      action: 'task_create',
      data: { taskId: task.id, priority: task.priority, agentType: task.agentType },
    });
    return TASKS.decode(row);
  },
});

export const tasksGet = defineOperation({
  name: 'tasks.get',
  kind: 'read',
  statements: { byId: BY_ID },
  run({ st }, [id]: readonly [string]): Task | undefined {
    const row = st.byId.get(id) as RawRow | undefined;
    return row === undefined ? undefined : TASKS.decode(row);
  },
});

export const tasksGetWithSession = defineOperation({
  name: 'tasks.getWithSession',
  kind: 'read',
  statements: {
    join: raw(
      `SELECT ${TASKS.qualified('t')}, ${SESSIONS.qualified('s')} ` +
        'FROM tasks AS t LEFT JOIN sessions AS s ON s.id = t.session_id WHERE t.id = ?',
    ),
  },
  run({ st }, [id]: readonly [string]): { task: Task; session: SessionInfo | null } | undefined {
    const row = st.join.get(id) as RawRow | undefined;
    if (row === undefined) return undefined;
    // The session's columns follow the task's; its id is NULL when the task has none.
    const session = TASKS.after(row) === null ? null : SESSIONS.decodeAt(row, TASKS.width);
    return { task: TASKS.decode(row), session };
  },
});

// Lists select the rowid after the task's columns.
const pageOf = (rows: RawRow[], limit: number): Page<Task> =>
  toPage(rows, limit, TASKS.decode, (task, row) => [task.submittedAt, TASKS.after(row) as number]);

export const tasksListBySession = defineOperation({
  name: 'tasks.listBySession',
  kind: 'read',
  statements: {
    first: raw(
      `SELECT ${TASKS.columns}, rowid FROM tasks WHERE session_id = ? ORDER BY submitted_at DESC, rowid DESC LIMIT ?`,
    ),
    next: raw(
      `SELECT ${TASKS.columns}, rowid FROM tasks WHERE session_id = @sessionId AND submitted_at <= @at ` +
        'AND (submitted_at < @at OR rowid < @rid) ORDER BY submitted_at DESC, rowid DESC LIMIT @limit',
    ),
  },
  run(
    { st },
    [sessionId, limit, after]: readonly [string, number, readonly [string, number] | null],
  ): Page<Task> {
    const rows = (after === null
      ? st.first.all(sessionId, limit + 1)
      : st.next.all({ sessionId, at: after[0], rid: after[1], limit: limit + 1 })) as RawRow[];
    return pageOf(rows, limit);
  },
});

export const tasksListChildren = defineOperation({
  name: 'tasks.listChildren',
  kind: 'read',
  statements: {
    first: raw(`SELECT ${TASKS.columns}, rowid FROM tasks WHERE parent_task_id = ? ORDER BY rowid LIMIT ?`),
    // Pinned to the parent index: on rowid alone the planner may walk every later task.
    next: raw(
      `SELECT ${TASKS.columns}, rowid FROM tasks INDEXED BY idx_tasks_parent WHERE parent_task_id = ? AND rowid > ? ` +
        'ORDER BY rowid LIMIT ?',
    ),
  },
  run({ st }, [parentId, limit, after]: readonly [string, number, readonly [number] | null]): Page<Task> {
    const rows = (after === null
      ? st.first.all(parentId, limit + 1)
      : st.next.all(parentId, after[0], limit + 1)) as RawRow[];
    return toPage(rows, limit, TASKS.decode, (_, row) => [TASKS.after(row) as number]);
  },
});

const HIGHEST = 1;
const LOWEST = 10;

// Claiming walks the priorities from 1 (highest) down and takes the oldest pending task
// whose dependencies have all completed. Each step is one seek on
// idx_tasks_status_priority (status, priority, submitted_at); a single ORDER BY
// priority ASC, submitted_at ASC could not use that index (priority is DESC in it).
const CLAIMABLE =
  "SELECT rowid FROM tasks AS t WHERE status = 'pending' AND priority = @priority AND (@agentType IS NULL OR agent_type = @agentType) " +
  "AND NOT EXISTS (SELECT 1 FROM json_each(t.dependencies) AS d JOIN tasks AS p ON p.id = d.value WHERE p.status <> 'completed') " +
  'ORDER BY submitted_at, rowid LIMIT 1';

/** The lease a claim takes: its token, its length and its holder. */
export interface ClaimLease {
  token: string;
  leaseMs: number;
  holder: string | null;
}

/** What a claim found: the task it claimed, or none and when the next lease ends (a waiting claim's timer). */
export interface ClaimOutcome {
  task: Task | undefined;
  nextLeaseExpiry: string | null;
}

type ClaimArgs = readonly [agentType: string | null, lease: ClaimLease, ctx: AuditContext | undefined];

export const tasksClaimNext = defineOperation({
  name: 'tasks.claimNext',
  kind: 'write',
  statements: {
    ...LEASE_STATEMENTS,
    claimable: pluck(CLAIMABLE),
    claim: raw(
      `UPDATE tasks SET status = 'running', started_at = ${NOW}, last_updated_at = ${NOW}, claimed_by = @holder, ` +
        `claim_token = @token, lease_ms = @leaseMs, lease_expires_at = ${leaseEnd('@leaseMs')} ` +
        `WHERE rowid = @rowid RETURNING ${TASKS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [agentType, lease, ctx]: ClaimArgs): ClaimOutcome {
    // Leases that ended first: their tasks are then claimable like any other.
    expireLeases(st, ctx);
    for (let priority = HIGHEST; priority <= LOWEST; priority++) {
      const rowid = st.claimable.get({ priority, agentType }) as number | undefined;
      if (rowid === undefined) continue;
      const task = TASKS.decode(st.claim.get({ rowid, ...lease }) as RawRow);
      writeAudit(st.audit, auditUnder(ctx, task.id), {
        action: 'task_claim',
        data: { taskId: task.id, priority, agentType: task.agentType, claimedBy: lease.holder, leaseExpiresAt: task.leaseExpiresAt },
      });
      return { task, nextLeaseExpiry: null };
    }
    return { task: undefined, nextLeaseExpiry: (st.nextExpiry.get() as string | null | undefined) ?? null };
  },
});

type FinishArgs<T extends unknown[]> = readonly [id: string, ...rest: T, token: string | null, ctx: AuditContext | undefined];

export const tasksComplete = defineOperation({
  name: 'tasks.complete',
  kind: 'write',
  statements: {
    ...FENCE_STATEMENTS,
    complete: raw(
      `UPDATE tasks SET status = 'completed', result_data = @result, completed_at = ${NOW}, last_updated_at = ${NOW} ` +
        `WHERE id = @id AND status = 'running' AND (@token IS NULL OR claim_token = @token) RETURNING ${TASKS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, result, token, ctx]: FinishArgs<[result: string | null]>): Task {
    if (token !== null) expireLeaseOf(st, id, ctx);
    const row = st.complete.get({ id, result, token }) as RawRow | undefined;
    if (row === undefined) throw finishMiss(st, id, token, 'complete');
    writeAudit(st.audit, auditUnder(ctx, id), { action: 'task_complete', data: { taskId: id }, result: 'completed' });
    return TASKS.decode(row);
  },
});

export const tasksFail = defineOperation({
  name: 'tasks.fail',
  kind: 'write',
  statements: {
    ...FENCE_STATEMENTS,
    // With retries left (and retry asked for), the task goes back to pending with one
    // more retry counted and its claim cleared; otherwise it fails for good.
    fail: raw(
      'UPDATE tasks SET error_message = @error, last_updated_at = ' +
        NOW +
        ', ' +
        "status = CASE WHEN @retry = 1 AND retry_count < max_retries THEN 'pending' ELSE 'failed' END, " +
        'retry_count = CASE WHEN @retry = 1 AND retry_count < max_retries THEN retry_count + 1 ELSE retry_count END, ' +
        'started_at = CASE WHEN @retry = 1 AND retry_count < max_retries THEN NULL ELSE started_at END, ' +
        `completed_at = CASE WHEN @retry = 1 AND retry_count < max_retries THEN NULL ELSE ${NOW} END, ` +
        CLEAR_CLAIM_ON_RETRY('@retry = 1 AND retry_count < max_retries') +
        ` WHERE id = @id AND status = 'running' AND (@token IS NULL OR claim_token = @token) RETURNING ${TASKS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, error, retry, token, ctx]: FinishArgs<[error: string, retry: boolean]>): Task {
    if (token !== null) expireLeaseOf(st, id, ctx);
    const row = st.fail.get({ id, error, retry: retry ? 1 : 0, token }) as RawRow | undefined;
    if (row === undefined) throw finishMiss(st, id, token, 'fail');
    const task = TASKS.decode(row);
    writeAudit(st.audit, auditUnder(ctx, id), {
      action: 'task_fail',
      data: { taskId: id, error, retryCount: task.retryCount },
      result: task.status,
    });
    return task;
  },
});

export const tasksHeartbeat = defineOperation({
  name: 'tasks.heartbeat',
  kind: 'write',
  statements: {
    ...FENCE_STATEMENTS,
    extend: raw(
      `UPDATE tasks SET lease_expires_at = ${leaseEnd('coalesce(@leaseMs, lease_ms)')}, lease_ms = coalesce(@leaseMs, lease_ms), ` +
        `last_updated_at = ${NOW} WHERE id = @id AND status = 'running' AND claim_token = @token AND lease_expires_at IS NOT NULL ` +
        `RETURNING ${TASKS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, token, leaseMs, ctx]: readonly [id: string, token: string, leaseMs: number | null, ctx: AuditContext | undefined]): Task {
    // A lease that has ended is not extended: its task is someone else's to claim.
    expireLeaseOf(st, id, ctx);
    const row = st.extend.get({ id, token, leaseMs }) as RawRow | undefined;
    if (row === undefined) throw finishMiss(st, id, token, 'heartbeat');
    const task = TASKS.decode(row);
    writeAudit(st.audit, auditUnder(ctx, id), { action: 'task_heartbeat', data: { taskId: id, leaseExpiresAt: task.leaseExpiresAt } });
    return task;
  },
});

export const tasksCancel = defineOperation({
  name: 'tasks.cancel',
  kind: 'write',
  statements: {
    cancel: raw(
      `UPDATE tasks SET status = 'cancelled', completed_at = ${NOW}, last_updated_at = ${NOW} ` +
        `WHERE id = ? AND status IN ('pending', 'running') RETURNING ${TASKS.columns}`,
    ),
    status: STATUS,
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, ctx]: readonly [string, AuditContext | undefined]): Task {
    const row = st.cancel.get(id) as RawRow | undefined;
    if (row === undefined) throw transitionMiss(st.status.get(id), id, 'cancel', ['pending', 'running']);
    writeAudit(st.audit, auditUnder(ctx, id), { action: 'task_cancel', data: { taskId: id }, result: 'cancelled' });
    return TASKS.decode(row);
  },
});

export const taskOperations = [
  tasksCreate,
  tasksGet,
  tasksGetWithSession,
  tasksListBySession,
  tasksListChildren,
  tasksClaimNext,
  tasksComplete,
  tasksFail,
  tasksHeartbeat,
  tasksCancel,
];
