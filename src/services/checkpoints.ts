import { decodeCursor } from '../catalogue/cursor.js';
import { checkpointsGet, checkpointsLatest, checkpointsList, checkpointsSave } from '../catalogue/checkpoints.js';
import type { StoreEngine } from '../api/engine.js';
import type { CallOptions, Checkpoint, JsonValue, ListOptions, Page, SaveCheckpointInput } from '../api/types.js';
import * as v from '../api/validate.js';

const MAX_ITERATION = 2 ** 31;

/** Checkpoints: a task's state at each iteration, to resume from. */
export class Checkpoints {
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
   * Saves a task's state at an iteration; an iteration already saved rejects CONFLICT.
   *
   * @example
   * await store.checkpoints.save({ taskId: task.id, iteration: 3, state: { cursor: 120 } });
   * const resume = await store.checkpoints.latest(task.id);
   */
  save<State = JsonValue>(input: SaveCheckpointInput): Promise<Checkpoint<State>> {
    return this.#engine.call(checkpointsSave, () => {
      const o = v.options('input', input, ['taskId', 'iteration', 'state', 'sessionId', 'ctx'] as const, {
        required: ['taskId', 'iteration', 'state'],
      });
      return [
        v.identifier('taskId', o.taskId),
        v.integer('iteration', o.iteration, 0, MAX_ITERATION),
        v.json('state', o.state, this.#engine.options.maxPayloadBytes),
        v.optionalIdentifier('sessionId', o.sessionId),
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal) as Promise<Checkpoint<State>>;
  }

  /** The checkpoint of one iteration, or `undefined`. `State` types its state for the caller (not checked). */
  get<State = JsonValue>(taskId: string, iteration: number, options?: CallOptions): Promise<Checkpoint<State> | undefined> {
    return this.#engine.call(checkpointsGet, () => {
      v.options('options', options, []);
      return [v.identifier('taskId', taskId), v.integer('iteration', iteration, 0, MAX_ITERATION)] as const;
    }, options?.signal) as Promise<Checkpoint<State> | undefined>;
  }

  /** The checkpoint with the highest iteration. */
  latest<State = JsonValue>(taskId: string, options?: CallOptions): Promise<Checkpoint<State> | undefined> {
    return this.#engine.call(checkpointsLatest, () => {
      v.options('options', options, []);
      return [v.identifier('taskId', taskId)] as const;
    }, options?.signal) as Promise<Checkpoint<State> | undefined>;
  }

  /** A task's checkpoints, highest iteration first. */
  list<State = JsonValue>(taskId: string, options?: ListOptions): Promise<Page<Checkpoint<State>>> {
    return this.#engine.call(checkpointsList, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.identifier('taskId', taskId),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'n') as [number]),
      ] as const;
    }, options?.signal) as Promise<Page<Checkpoint<State>>>;
  }
}
