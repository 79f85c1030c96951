import { StoreError } from '../../api/errors.js';
import type { Agent, AuditContext } from '../../api/types.js';
import {
  agentsGet,
  agentsListBySession,
  agentsListByTask,
  agentsSetState,
  agentsSpawn,
  agentsTerminate,
} from '../../catalogue/agents.js';
import { toPage } from '../../catalogue/cursor.js';
import type { RawRow } from '../../catalogue/table.js';
import { AGENTS } from '../../catalogue/tables.js';
import { implement } from '../operation.js';
import { conflictOnDuplicate } from './conflict.js';
import { NOW } from './sql.js';

const STATE = 'SELECT state FROM agents WHERE id = $1';

/** Agent operations audit under the agent itself unless the caller names another. */
const auditUnder = (ctx: AuditContext | undefined, agentId: string): AuditContext => ({ ...ctx, agentId: ctx?.agentId ?? agentId });

function agentMiss(state: unknown, id: string, action: string): StoreError {
  return state === undefined
    ? new StoreError('NOT_FOUND', `agent ${id} does not exist`)
    : new StoreError('INVALID_STATE', `cannot ${action} agent ${id}: it is ${state as string}`);
}

export const pgAgentsSpawn = implement(agentsSpawn, {
  statements: {
    insert:
      'INSERT INTO agents (id, name, specialization, task_id, model, session_id, resource_usage) ' +
      `VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING ${AGENTS.columns}`,
  },
  async run(q, [agent, ctx]) {
    const row = await conflictOnDuplicate(
      `agent ${agent.id} already exists`,
      q.one('insert', [agent.id, agent.name, agent.specialization, agent.taskId, agent.model, agent.sessionId, agent.resourceUsage]),
    );
    // The audit row names the new agent, so it is written after it exists.
    await q.audit(auditUnder({ taskId: agent.taskId, ...ctx }, agent.id), {
      action: 'agent_spawn',
      data: { agentId: agent.id, taskId: agent.taskId, model: agent.model },
    });
    return AGENTS.decode(row!);
  },
});

export const pgAgentsGet = implement(agentsGet, {
  statements: { byId: `SELECT ${AGENTS.columns} FROM agents WHERE id = $1` },
  async run(q, [id]) {
    const row = await q.one('byId', [id]);
    return row === undefined ? undefined : AGENTS.decode(row);
  },
});

export const pgAgentsListBySession = implement(agentsListBySession, {
  statements: {
    first: `SELECT ${AGENTS.columns}, rowid FROM agents WHERE session_id = $1 ORDER BY spawned_at DESC, rowid DESC LIMIT $2`,
    next:
      `SELECT ${AGENTS.columns}, rowid FROM agents WHERE session_id = $1 AND (spawned_at, rowid) < ($3::timestamptz, $4::bigint) ` +
      'ORDER BY spawned_at DESC, rowid DESC LIMIT $2',
  },
  async run(q, [sessionId, limit, after]) {
    const rows =
      after === null ? await q.all('first', [sessionId, limit + 1]) : await q.all('next', [sessionId, limit + 1, after[0], after[1]]);
    // The rowid is selected after the agent's columns.
    return toPage<RawRow, Agent>(rows, limit, AGENTS.decode, (agent, row) => [agent.spawnedAt, AGENTS.after(row) as number]);
  },
});

export const pgAgentsListByTask = implement(agentsListByTask, {
  statements: {
    first: `SELECT ${AGENTS.columns}, rowid FROM agents WHERE task_id = $1 ORDER BY rowid LIMIT $2`,
    next: `SELECT ${AGENTS.columns}, rowid FROM agents WHERE task_id = $1 AND rowid > $3 ORDER BY rowid LIMIT $2`,
  },
  async run(q, [taskId, limit, after]) {
    const rows = after === null ? await q.all('first', [taskId, limit + 1]) : await q.all('next', [taskId, limit + 1, after[0]]);
    return toPage<RawRow, Agent>(rows, limit, AGENTS.decode, (_, row) => [AGENTS.after(row) as number]);
  },
});

export const pgAgentsSetState = implement(agentsSetState, {
  statements: {
    update:
      'UPDATE agents SET state = $2, resource_usage = coalesce($3::jsonb, resource_usage) ' +
      `WHERE id = $1 AND state <> 'terminated' RETURNING ${AGENTS.columns}`,
    state: STATE,
  },
  async run(q, [id, state, resourceUsage, ctx]) {
    const row = await q.one('update', [id, state, resourceUsage]);
    if (row === undefined) throw agentMiss(await q.value('state', [id]), id, 'change the state of');
    await q.audit(auditUnder(ctx, id), { action: 'agent_set_state', data: { agentId: id, state } });
    return AGENTS.decode(row);
  },
});

export const pgAgentsTerminate = implement(agentsTerminate, {
  statements: {
    update:
      `UPDATE agents SET state = 'terminated', terminated_at = ${NOW}, resource_usage = coalesce($2::jsonb, resource_usage) ` +
      `WHERE id = $1 AND state <> 'terminated' RETURNING ${AGENTS.columns}`,
    state: STATE,
  },
  async run(q, [id, resourceUsage, ctx]) {
    const row = await q.one('update', [id, resourceUsage]);
    if (row === undefined) throw agentMiss(await q.value('state', [id]), id, 'terminate');
    await q.audit(auditUnder(ctx, id), { action: 'agent_terminate', data: { agentId: id }, result: 'terminated' });
    return AGENTS.decode(row);
  },
});

export const pgAgentOperations = [pgAgentsSpawn, pgAgentsGet, pgAgentsListBySession, pgAgentsListByTask, pgAgentsSetState, pgAgentsTerminate];
