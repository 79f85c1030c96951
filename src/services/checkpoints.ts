import { decodeCursor } from '../catalogue/cursor.js';
import { checkpointsGet, checkpointsLatest, checkpointsList, checkpointsSave } from '../catalogue/checkpoints.js';
import type { StoreEngine } from './engine.js';
import type { AuditContext, Checkpoint, JsonValue, ListOptions, Page } from '../api/types.js';
import * as v from '../api/validate.js';

export interface SaveCheckpointInput {
  taskId: string;
  iteration: number;
  state: JsonValue;
  sessionId?: string;
  ctx?: AuditContext;
}

const MAX_ITERATION = 2 ** 31;

/** Checkpoints: a task's state at each iteration, to resume from. */
export class Checkpoints {
  readonly #engine: StoreEngine;

  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /**
   * Saves a task's state at an iteration; an iteration already saved rejects CONFLICT.
   *
   * @example
   * await store.checkpoints.save({ taskId: task.id, iteration: 3, state: { cursor: 120 } });
   * const resume = await store.checkpoints.latest(task.id);
   */
  save(input: SaveCheckpointInput): Promise<Checkpoint> {
    return this.#engine.call(checkpointsSave, () => {
      const o = v.options('input', input, ['taskId', 'iteration', 'state', 'sessionId', 'ctx'] as const);
      if (o.state === undefined) throw v.missing('state');
      return [
        v.identifier('taskId', o.taskId),
        v.integer('iteration', o.iteration, 0, MAX_ITERATION),
        v.json('state', o.state),
        v.optionalIdentifier('sessionId', o.sessionId),
        v.auditContext(o.ctx),
      ] as const;
    });
  }

  get(taskId: string, iteration: number): Promise<Checkpoint | undefined> {
    return this.#engine.call(
      checkpointsGet,
      () => [v.identifier('taskId', taskId), v.integer('iteration', iteration, 0, MAX_ITERATION)] as const,
    );
  }

  /** The checkpoint with the highest iteration. */
  latest(taskId: string): Promise<Checkpoint | undefined> {
    return this.#engine.call(checkpointsLatest, () => [v.identifier('taskId', taskId)] as const);
  }

  /** A task's checkpoints, highest iteration first. */
  list(taskId: string, options?: ListOptions): Promise<Page<Checkpoint>> {
    return this.#engine.call(checkpointsList, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.identifier('taskId', taskId),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'n') as [number]),
      ] as const;
    });
  }
}
