import { randomUUID } from 'node:crypto';
import { decodeCursor } from '../catalogue/cursor.js';
import {
  tasksCancel,
  tasksClaimNext,
  tasksComplete,
  tasksCreate,
  tasksFail,
  tasksGet,
  tasksGetWithSession,
  tasksListBySession,
  tasksListChildren,
} from '../catalogue/tasks.js';
import type { StoreEngine } from '../api/engine.js';
import { invalidArgument } from '../api/errors.js';
import type {
  CallOptions,
  ClaimTaskOptions,
  CreateTaskInput,
  FailTaskOptions,
  JsonValue,
  ListOptions,
  Page,
  SessionInfo,
  Task,
  WriteOptions,
} from '../api/types.js';
import * as v from '../api/validate.js';

/** The arguments of a call that takes only an id (and a signal). */
function idOnly(id: string, options: CallOptions | undefined): readonly [string] {
  v.options('options', options, []);
  return [v.identifier('id', id)] as const;
}

/** Tasks: a priority queue of work that agents claim, complete, fail (with retries) or cancel. */
export class Tasks {
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
   * Queues a task as `pending`.
   *
   * @example
   * const task = await store.tasks.create({ prompt: 'Summarise the design', inputData: { doc: 'design.md' }, priority: 2 });
   */
  create<Input = JsonValue>(input: CreateTaskInput): Promise<Task<Input>> {
    return this.#engine.call(tasksCreate, () => {
      const o = v.options('input', input, [
        'id', 'prompt', 'inputData', 'agentType', 'priority', 'parentTaskId', 'dependencies', 'sessionId', 'createdBy',
        'maxRetries', 'maxExecutionTimeoutSeconds', 'ctx',
      ] as const, { required: ['prompt', 'inputData'] });
      if (o.dependencies !== undefined && !Array.isArray(o.dependencies)) {
        throw invalidArgument('dependencies must be an array of task ids');
      }
      const dependencies = ((o.dependencies ?? []) as unknown[]).map((id, i) => v.identifier(`dependencies[${i}]`, id));
      return [
        {
          id: o.id === undefined ? randomUUID() : v.identifier('id', o.id),
          prompt: v.text('prompt', o.prompt),
          inputData: v.json('inputData', o.inputData, this.#engine.options.maxPayloadBytes),
          agentType: o.agentType === undefined ? 'general' : v.identifier('agentType', o.agentType),
          priority: o.priority === undefined ? 5 : v.integer('priority', o.priority, 1, 10),
          parentTaskId: v.optionalIdentifier('parentTaskId', o.parentTaskId),
          dependencies,
          sessionId: v.optionalIdentifier('sessionId', o.sessionId),
          createdBy: v.optionalIdentifier('createdBy', o.createdBy),
          maxRetries: o.maxRetries === undefined ? 3 : v.integer('maxRetries', o.maxRetries, 0, 1000),
          timeoutSeconds:
            o.maxExecutionTimeoutSeconds === undefined
              ? 3600
              : v.integer('maxExecutionTimeoutSeconds', o.maxExecutionTimeoutSeconds, 1, 365 * 24 * 3600),
        },
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal) as Promise<Task<Input>>;
  }

  /** The task, or `undefined`. `Input` and `Result` type its payloads for the caller (not checked). */
  get<Input = JsonValue, Result = JsonValue>(id: string, options?: CallOptions): Promise<Task<Input, Result> | undefined> {
    return this.#engine.call(tasksGet, () => idOnly(id, options), options?.signal) as Promise<Task<Input, Result> | undefined>;
  }

  /** The task and its session (null when it has none), read together. */
  getWithSession(id: string, options?: CallOptions): Promise<{ task: Task; session: SessionInfo | null } | undefined> {
    return this.#engine.call(tasksGetWithSession, () => idOnly(id, options), options?.signal);
  }

  /** A session's tasks, newest first. */
  listBySession(sessionId: string, options?: ListOptions): Promise<Page<Task>> {
    return this.#engine.call(tasksListBySession, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.identifier('sessionId', sessionId),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number]),
      ] as const;
    }, options?.signal);
  }

  /** A task's subtasks, in creation order. */
  listChildren(parentTaskId: string, options?: ListOptions): Promise<Page<Task>> {
    return this.#engine.call(tasksListChildren, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.identifier('parentTaskId', parentTaskId),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'n') as [number]),
      ] as const;
    }, options?.signal);
  }

  /**
   * Atomically moves the highest-priority, oldest pending task whose dependencies have
   * all completed to `running`, and returns it; `undefined` when there is none. Many
   * workers may call this at once: each task goes to exactly one.
   *
   * @example
   * const task = await store.tasks.claimNext({ agentType: 'coder' });
   */
  claimNext<Input = JsonValue>(options?: ClaimTaskOptions): Promise<Task<Input> | undefined> {
    return this.#engine.call(tasksClaimNext, () => {
      const o = v.options('options', options, ['agentType', 'ctx'] as const);
      return [v.optionalIdentifier('agentType', o.agentType), v.auditContext(o.ctx)] as const;
    }, options?.signal) as Promise<Task<Input> | undefined>;
  }

  /** Completes a running task with its result. */
  complete(id: string, result?: JsonValue, options?: WriteOptions): Promise<Task> {
    return this.#engine.call(tasksComplete, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('id', id), v.optionalJson('result', result, this.#engine.options.maxPayloadBytes), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }

  /**
   * Records a running task's failure. With retries left (and `retry` not false) it goes
   * back to `pending` with its retry count raised; otherwise it is `failed`.
   */
  fail(id: string, error: string, options?: FailTaskOptions): Promise<Task> {
    return this.#engine.call(tasksFail, () => {
      const o = v.options('options', options, ['retry', 'ctx'] as const);
      return [
        v.identifier('id', id),
        v.text('error', error, 65_536),
        o.retry === undefined ? true : v.boolean('retry', o.retry),
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /** Cancels a pending or running task. */
  cancel(id: string, options?: WriteOptions): Promise<Task> {
    return this.#engine.call(tasksCancel, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('id', id), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }
}
