import { randomUUID } from 'node:crypto';
import { decodeCursor } from '../catalogue/cursor.js';
import {
  agentsGet,
  agentsListBySession,
  agentsListByTask,
  agentsSetState,
  agentsSpawn,
  agentsTerminate,
} from '../catalogue/agents.js';
import type { StoreEngine } from '../api/engine.js';
import {
  AGENT_STATES,
  type Agent,
  type AgentState,
  type AgentUpdateOptions,
  type CallOptions,
  type ListOptions,
  type Page,
  type SpawnAgentInput,
} from '../api/types.js';
import * as v from '../api/validate.js';

/** The states setState may move an agent to: terminate() ends one. */
const LIVE_STATES = AGENT_STATES.filter((state): state is Exclude<AgentState, 'terminated'> => state !== 'terminated');

const cursorOf = (value: unknown, shape: string) =>
  value === undefined ? null : decodeCursor(v.text('cursor', value), shape);

/** Agents: who works on which task, in which state. */
export class Agents {
  readonly #engine: StoreEngine;

  /**
   * Each Store makes its own, on its engine: use `store.<service>`.
   *
   * @internal
   */
  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /**
   * Registers an agent working on a task, in state `idle`.
   *
   * @example
   * const agent = await store.agents.spawn({ name: 'coder-1', specialization: 'typescript', taskId: task.id, model: 'large' });
   */
  spawn(input: SpawnAgentInput): Promise<Agent> {
    return this.#engine.call(agentsSpawn, () => {
      const o = v.options('input', input, ['id', 'name', 'specialization', 'taskId', 'model', 'sessionId', 'resourceUsage', 'ctx'] as const, {
        required: ['name', 'specialization', 'taskId', 'model'],
      });
      return [
        {
          id: o.id === undefined ? randomUUID() : v.identifier('id', o.id),
          name: v.text('name', o.name, 1024),
          specialization: v.text('specialization', o.specialization, 1024),
          taskId: v.identifier('taskId', o.taskId),
          model: v.identifier('model', o.model),
          sessionId: v.optionalIdentifier('sessionId', o.sessionId),
          resourceUsage: v.optionalJson('resourceUsage', o.resourceUsage, this.#engine.options.maxPayloadBytes),
        },
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal);
  }

  /** The agent, or `undefined`. */
  get(id: string, options?: CallOptions): Promise<Agent | undefined> {
    return this.#engine.call(agentsGet, () => {
      v.options('options', options, []);
      return [v.identifier('id', id)] as const;
    }, options?.signal);
  }

  /** A session's agents, most recently spawned first. */
  listBySession(sessionId: string, options?: ListOptions): Promise<Page<Agent>> {
    return this.#engine.call(agentsListBySession, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [v.identifier('sessionId', sessionId), v.limit(o.limit), cursorOf(o.cursor, 'sn') as [string, number] | null] as const;
    }, options?.signal);
  }

  /** A task's agents, in spawn order. */
  listByTask(taskId: string, options?: ListOptions): Promise<Page<Agent>> {
    return this.#engine.call(agentsListByTask, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [v.identifier('taskId', taskId), v.limit(o.limit), cursorOf(o.cursor, 'n') as [number] | null] as const;
    }, options?.signal);
  }

  /** Moves a live agent between idle, working and waiting (a terminated one stays terminated). */
  setState(
    id: string,
    state: Exclude<AgentState, 'terminated'>,
    options?: AgentUpdateOptions,
  ): Promise<Agent> {
    return this.#engine.call(agentsSetState, () => {
      const o = v.options('options', options, ['resourceUsage', 'ctx'] as const);
      return [
        v.identifier('id', id),
        v.oneOf('state', state, LIVE_STATES),
        v.optionalJson('resourceUsage', o.resourceUsage, this.#engine.options.maxPayloadBytes),
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /** Terminates an agent, recording when (and its final resource usage, if given). */
  terminate(id: string, options?: AgentUpdateOptions): Promise<Agent> {
    return this.#engine.call(agentsTerminate, () => {
      const o = v.options('options', options, ['resourceUsage', 'ctx'] as const);
      return [v.identifier('id', id), v.optionalJson('resourceUsage', o.resourceUsage, this.#engine.options.maxPayloadBytes), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }
}
