import { decodeCursor } from '../catalogue/cursor.js';
import {
  memoryAdd,
  memoryContext,
  memoryDelete,
  memoryExpireEpisodic,
  memoryGet,
  memoryHistory,
  memoryRollback,
  memorySearch,
  memoryUpdate,
} from '../catalogue/memory.js';
import type { StoreEngine } from '../api/engine.js';
import {
  MEMORY_TYPES,
  type AddMemoryInput,
  type ContextQuery,
  type GetMemoryOptions,
  type JsonValue,
  type ListOptions,
  type MemoryContext,
  type MemoryEntry,
  type Page,
  type SearchMemoryOptions,
  type UpdateMemoryOptions,
  type WriteOptions,
} from '../api/types.js';
import * as v from '../api/validate.js';
import { MemoryValues } from './memory-values.js';

const MAX_VERSION = 2 ** 31;

/**
 * Long-term memory: versioned JSON values under colon-separated namespaces. Every change
 * adds a version; delete and rollback mark versions deleted rather than removing them.
 *
 * The reads (get, history, search, context) decode each version's value on this thread
 * once while it stays in the store's decode cache (`decodeCacheBytes`): a version's value
 * never changes once written, so the values they return are deep-frozen and shared by
 * every read (copy one to change it); each entry object and each array is the caller's
 * own. With `decodeCacheBytes: 0` the values are fresh, mutable objects.
 */
export class Memory {
  readonly #engine: StoreEngine;
  readonly #values: MemoryValues;

  /**
   * Each Store makes its own, on its engine: use `store.<service>`.
   *
   * @internal
   */
  constructor(engine: StoreEngine) {
    this.#engine = engine;
    this.#values = new MemoryValues(engine.options.decodeCacheBytes);
  }

  /**
   * Adds a key at version 1 (or after its last version, if every version was deleted).
   * A key that is live already rejects with CONFLICT.
   *
   * @example
   * await store.memory.add({ namespace: 'user:alice:preferences', key: 'theme', value: 'dark', type: 'semantic' });
   */
  add<Value = JsonValue>(input: AddMemoryInput): Promise<MemoryEntry<Value>> {
    return this.#engine.call(memoryAdd, () => {
      const o = v.options('input', input, ['namespace', 'key', 'value', 'type', 'metadata', 'createdBy', 'ctx'] as const, {
        required: ['namespace', 'key', 'value', 'type'],
      });
      return [
        v.namespace('namespace', o.namespace),
        v.identifier('key', o.key),
        v.json('value', o.value, this.#engine.options.maxPayloadBytes),
        v.oneOf('type', o.type, MEMORY_TYPES),
        o.metadata === undefined ? '{}' : v.jsonObject('metadata', o.metadata, this.#engine.options.maxPayloadBytes),
        v.optionalIdentifier('createdBy', o.createdBy),
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal) as Promise<MemoryEntry<Value>>;
  }

  /**
   * The current (newest live) version, or the named `version`; `undefined` when none.
   * `Value` types the entry's value for the caller (not checked: it is the JSON stored).
   *
   * @example
   * const theme = await store.memory.get<string>('user:alice:preferences', 'theme');
   */
  async get<Value = JsonValue>(namespace: string, key: string, options?: GetMemoryOptions): Promise<MemoryEntry<Value> | undefined> {
    const row = await this.#engine.call(memoryGet, () => {
      const o = v.options('options', options, ['version'] as const);
      return [
        v.namespace('namespace', namespace),
        v.identifier('key', key),
        v.optionalInteger('version', o.version, 1, MAX_VERSION),
      ] as const;
    }, options?.signal);
    return row === undefined ? undefined : this.#values.entry<Value>(row);
  }

  /**
   * Writes a new version (the type is kept). With `expectedVersion`, rejects CONFLICT
   * unless that is still the current version.
   */
  update<Value = JsonValue>(namespace: string, key: string, value: JsonValue, options?: UpdateMemoryOptions): Promise<MemoryEntry<Value>> {
    return this.#engine.call(memoryUpdate, () => {
      const o = v.options('options', options, ['expectedVersion', 'updatedBy', 'metadata', 'ctx'] as const);
      if (value === undefined) throw v.missing('value');
      return [
        v.namespace('namespace', namespace),
        v.identifier('key', key),
        v.json('value', value, this.#engine.options.maxPayloadBytes),
        v.optionalInteger('expectedVersion', o.expectedVersion, 1, MAX_VERSION),
        v.optionalIdentifier('updatedBy', o.updatedBy),
        v.optionalJsonObject('metadata', o.metadata, this.#engine.options.maxPayloadBytes),
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal) as Promise<MemoryEntry<Value>>;
  }

  /** Marks every version of the key deleted. */
  delete(namespace: string, key: string, options?: WriteOptions): Promise<{ deletedVersions: number }> {
    return this.#engine.call(memoryDelete, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.namespace('namespace', namespace), v.identifier('key', key), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }

  /** Marks the current version deleted so the previous live one is current again; returns it. */
  rollback<Value = JsonValue>(namespace: string, key: string, options?: WriteOptions): Promise<MemoryEntry<Value>> {
    return this.#engine.call(memoryRollback, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.namespace('namespace', namespace), v.identifier('key', key), v.auditContext(o.ctx)] as const;
    }, options?.signal) as Promise<MemoryEntry<Value>>;
  }

  /** Every version of a key, deleted ones included, newest first. */
  async history<Value = JsonValue>(namespace: string, key: string, options?: ListOptions): Promise<Page<MemoryEntry<Value>>> {
    const page = await this.#engine.call(memoryHistory, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.namespace('namespace', namespace),
        v.identifier('key', key),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'n') as [number]),
      ] as const;
    }, options?.signal);
    return this.#values.page<Value>(page);
  }

  /** The current version of every key under a namespace prefix, in (namespace, key) order. */
  async search<Value = JsonValue>(query: SearchMemoryOptions): Promise<Page<MemoryEntry<Value>>> {
    const page = await this.#engine.call(memorySearch, () => {
      const o = v.options('query', query, ['namespacePrefix', 'type', 'limit', 'cursor'] as const);
      return [
        v.namespace('namespacePrefix', o.namespacePrefix),
        o.type === undefined ? null : v.oneOf('type', o.type, MEMORY_TYPES),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'ss') as [string, string]),
      ] as const;
    }, query?.signal);
    return this.#values.page<Value>(page);
  }

  /**
   * Everything an agent should know in a session, in one read: the current version of
   * every entry under `session:<sessionId>`, `user:<userId>`, `app:<appName>` and
   * `project:<projectId>`.
   */
  async context<Value = JsonValue>(query: ContextQuery): Promise<MemoryContext<Value>> {
    const context = await this.#engine.call(memoryContext, () => {
      const o = v.options('query', query, ['sessionId', 'userId', 'appName', 'projectId', 'limit'] as const);
      return [
        v.segment('sessionId', o.sessionId),
        v.segment('userId', o.userId),
        v.segment('appName', o.appName),
        o.projectId === undefined || o.projectId === null ? null : v.segment('projectId', o.projectId),
        v.limit(o.limit, 1000, 10_000),
      ] as const;
    }, query?.signal);
    return this.#values.context<Value>(context);
  }

  /** Soft-deletes episodic keys whose current version was written before `olderThan`. */
  expireEpisodic(olderThan: Date | string | number, options?: WriteOptions): Promise<{ expired: number }> {
    return this.#engine.call(memoryExpireEpisodic, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.timestamp('olderThan', olderThan), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }
}
