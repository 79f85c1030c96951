import { stateGet, stateSet } from '../catalogue/state.js';
import type { StoreEngine } from './engine.js';
import type { AuditContext, JsonValue, StateEntry } from '../api/types.js';
import * as v from '../api/validate.js';

/** The legacy per-task key/value state of the seed's schema. */
export class TaskState {
  readonly #engine: StoreEngine;

  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /** The value stored under `key` for a task, or `undefined`. */
  get(taskId: string, key: string): Promise<JsonValue | undefined> {
    return this.#engine.call(stateGet, () => [v.identifier('taskId', taskId), v.identifier('key', key)] as const);
  }

  /**
   * Stores a value under `key` for a task, replacing any earlier one.
   *
   * @example
   * await store.state.set(task.id, 'progress', { done: 3, of: 10 });
   */
  set(taskId: string, key: string, value: JsonValue, options?: { ctx?: AuditContext }): Promise<StateEntry> {
    return this.#engine.call(stateSet, () => {
      const o = v.options('options', options, ['ctx'] as const);
      if (value === undefined) throw v.missing('value');
      return [v.identifier('taskId', taskId), v.identifier('key', key), v.json('value', value), v.auditContext(o.ctx)] as const;
    });
  }
}
