import { stateGet, stateSet } from '../catalogue/state.js';
import type { StoreEngine } from '../api/engine.js';
import type { CallOptions, JsonValue, StateEntry, WriteOptions } from '../api/types.js';
import * as v from '../api/validate.js';

/** The legacy per-task key/value state of the seed's schema. */
export class TaskState {
  readonly #engine: StoreEngine;

  /**
   * Each Store makes its own, on its engine: use `store.<service>`.
   *
   * @internal
   */
  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /** The value stored under `key` for a task, or `undefined`. `Value` types it for the caller (not checked). */
  get<Value = JsonValue>(taskId: string, key: string, options?: CallOptions): Promise<Value | undefined> {
    return this.#engine.call(stateGet, () => {
      v.options('options', options, []);
      return [v.identifier('taskId', taskId), v.identifier('key', key)] as const;
    }, options?.signal) as Promise<Value | undefined>;
  }

  /**
   * Stores a value under `key` for a task, replacing any earlier one.
   *
   * @example
   * await store.state.set(task.id, 'progress', { done: 3, of: 10 });
   */
  set<Value = JsonValue>(taskId: string, key: string, value: JsonValue, options?: WriteOptions): Promise<StateEntry<Value>> {
    return this.#engine.call(stateSet, () => {
      const o = v.options('options', options, ['ctx'] as const);
      if (value === undefined) throw v.missing('value');
      return [v.identifier('taskId', taskId), v.identifier('key', key), v.json('value', value, this.#engine.options.maxPayloadBytes), v.auditContext(o.ctx)] as const;
    }, options?.signal) as Promise<StateEntry<Value>>;
  }
}
