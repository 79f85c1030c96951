import { StoreError } from '../api/errors.js';
import type { Agent, AgentState, AuditContext, Page } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import { AGENTS } from './tables.js';
import type { RawRow } from './table.js';
import { conflictOnDuplicate, NOW } from './sql.js';

const STATE = pluck('SELECT state FROM agents WHERE id = ?');

/** Agent operations audit under the agent itself unless the caller names another. */
const auditUnder = (ctx: AuditContext | undefined, agentId: string): AuditContext => ({ ...ctx, agentId: ctx?.agentId ?? agentId });

function agentMiss(state: unknown, id: string, action: string): StoreError {
  return state === undefined
    ? new StoreError('NOT_FOUND', `agent ${id} does not exist`)
    : new StoreError('INVALID_STATE', `cannot ${action} agent ${id}: it is ${state as string}`);
}

export interface SpawnAgentArgs {
  id: string;
  name: string;
  specialization: string;
  taskId: string;
  model: string;
  sessionId: string | null;
  resourceUsage: string | null;
}

type SpawnArgs = readonly [agent: SpawnAgentArgs, ctx: AuditContext | undefined];

export const agentsSpawn = defineOperation({
  name: 'agents.spawn',
  kind: 'write',
  parents: [
    { field: 'taskId', table: 'tasks', id: ([agent]: SpawnArgs) => agent.taskId },
    { field: 'sessionId', table: 'sessions', id: ([agent]: SpawnArgs) => agent.sessionId },
  ],
  statements: {
    insert: raw(
      'INSERT INTO agents (id, name, specialization, task_id, model, session_id, resource_usage) ' +
        `VALUES (@id, @name, @specialization, @taskId, @model, @sessionId, @resourceUsage) RETURNING ${AGENTS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run({ st }, [agent, ctx]: SpawnArgs): Agent {
    const row = conflictOnDuplicate(`agent ${agent.id} already exists`, () => st.insert.get(agent)) as RawRow;
    // The audit row names the new agent, so it is written after it exists.
    writeAudit(st.audit, auditUnder({ taskId: agent.taskId, ...ctx }, agent.id), {
      action: 'agent_spawn',
      data: { agentId: agent.id, taskId: agent.taskId, model: agent.model },
    });
    return AGENTS.decode(row);
  },
});

export const agentsGet = defineOperation({
  name: 'agents.get',
  kind: 'read',
  statements: { byId: raw(`SELECT ${AGENTS.columns} FROM agents WHERE id = ?`) },
  run({ st }, [id]: readonly [string]): Agent | undefined {
    const row = st.byId.get(id) as RawRow | undefined;
    return row === undefined ? undefined : AGENTS.decode(row);
  },
});

export const agentsListBySession = defineOperation({
  name: 'agents.listBySession',
  kind: 'read',
  statements: {
    first: raw(`SELECT ${AGENTS.columns}, rowid FROM agents WHERE session_id = ? ORDER BY spawned_at DESC, rowid DESC LIMIT ?`),
    next: raw(
      `SELECT ${AGENTS.columns}, rowid FROM agents WHERE session_id = @sessionId AND spawned_at <= @at ` +
        'AND (spawned_at < @at OR rowid < @rid) ORDER BY spawned_at DESC, rowid DESC LIMIT @limit',
    ),
  },
  run(
    { st },
    [sessionId, limit, after]: readonly [string, number, readonly [string, number] | null],
  ): Page<Agent> {
    const rows = (after === null
      ? st.first.all(sessionId, limit + 1)
      : st.next.all({ sessionId, at: after[0], rid: after[1], limit: limit + 1 })) as RawRow[];
    // The rowid is selected after the agent's columns.
    return toPage(rows, limit, AGENTS.decode, (agent, row) => [agent.spawnedAt, AGENTS.after(row) as number]);
  },
});

export const agentsListByTask = defineOperation({
  name: 'agents.listByTask',
  kind: 'read',
  statements: {
    first: raw(`SELECT ${AGENTS.columns}, rowid FROM agents WHERE task_id = ? ORDER BY rowid LIMIT ?`),
    next: raw(`SELECT ${AGENTS.columns}, rowid FROM agents WHERE task_id = ? AND rowid > ? ORDER BY rowid LIMIT ?`),
  },
  run({ st }, [taskId, limit, after]: readonly [string, number, readonly [number] | null]): Page<Agent> {
    const rows = (after === null
      ? st.first.all(taskId, limit + 1)
      : st.next.all(taskId, after[0], limit + 1)) as RawRow[];
    return toPage(rows, limit, AGENTS.decode, (_, row) => [AGENTS.after(row) as number]);
  },
});

export const agentsSetState = defineOperation({
  name: 'agents.setState',
  kind: 'write',
  statements: {
    update: raw(
      'UPDATE agents SET state = @state, resource_usage = coalesce(@resourceUsage, resource_usage) ' +
        `WHERE id = @id AND state <> 'terminated' RETURNING ${AGENTS.columns}`,
    ),
    state: STATE,
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [id, state, resourceUsage, ctx]: readonly [string, Exclude<AgentState, 'terminated'>, string | null, AuditContext | undefined],
  ): Agent {
    const row = st.update.get({ id, state, resourceUsage }) as RawRow | undefined;
    if (row === undefined) throw agentMiss(st.state.get(id), id, 'change the state of');
    writeAudit(st.audit, auditUnder(ctx, id), { action: 'agent_set_state', data: { agentId: id, state } });
    return AGENTS.decode(row);
  },
});

export const agentsTerminate = defineOperation({
  name: 'agents.terminate',
  kind: 'write',
  statements: {
    update: raw(
      `UPDATE agents SET state = 'terminated', terminated_at = ${NOW}, resource_usage = coalesce(@resourceUsage, resource_usage) ` +
        `WHERE id = @id AND state <> 'terminated' RETURNING ${AGENTS.columns}`,
    ),
    state: STATE,
    audit: AUDIT_INSERT,
  },
  run({ st }, [id, resourceUsage, ctx]: readonly [string, string | null, AuditContext | undefined]): Agent {
    const row = st.update.get({ id, resourceUsage }) as RawRow | undefined;
    if (row === undefined) throw agentMiss(st.state.get(id), id, 'terminate');
    writeAudit(st.audit, auditUnder(ctx, id), { action: 'agent_terminate', data: { agentId: id }, result: 'terminated' });
    return AGENTS.decode(row);
  },
});

export const agentOperations = [agentsSpawn, agentsGet, agentsListBySession, agentsListByTask, agentsSetState, agentsTerminate];
