import { randomUUID } from 'node:crypto';
import { decodeCursor } from '../catalogue/cursor.js';
import {
  sessionsAppendEvent,
  sessionsCreate,
  sessionsDelete,
  sessionsGet,
  sessionsGetState,
  sessionsListByProject,
  sessionsListByUser,
  sessionsSetState,
  sessionsSetStatus,
} from '../catalogue/sessions.js';
import type { StoreEngine } from './engine.js';
import { engineOf } from '../api/internal.js';
import type { Store } from '../api/store.js';
import type { CallOptions, JsonObject, JsonValue, ListOptions, Page, Session, SessionStatus, Timestamp, WriteOptions } from '../api/types.js';
import * as v from '../api/validate.js';

export interface CreateSessionInput extends WriteOptions {
  /** A UUID v4 is generated when omitted. */
  id?: string;
  appName: string;
  userId: string;
  projectId?: string | null;
  state?: JsonObject;
  metadata?: JsonObject;
}

export interface GetSessionOptions extends CallOptions {
  /** Return only the newest n events. */
  lastEvents?: number;
}

export interface SessionListOptions extends ListOptions, GetSessionOptions {}

const STATUSES: readonly SessionStatus[] = ['created', 'active', 'paused', 'terminated', 'archived'];
const MAX_EVENTS = 1_000_000_000;

const lastEvents = (value: unknown): number | null => v.optionalInteger('lastEvents', value, 0, MAX_EVENTS);

function listArgs(owner: string, value: unknown, opts: unknown) {
  const o = v.options('options', opts, ['limit', 'cursor', 'lastEvents'] as const);
  const after = o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number]);
  return [v.identifier(owner, value), v.limit(o.limit), after, lastEvents(o.lastEvents)] as const;
}

/** Sessions: an event history and a state object per conversation, with a lifecycle. */
export class Sessions {
  readonly #engine: StoreEngine;

  /** Each Store makes its own: use `store.<service>`. */
  constructor(store: Store) {
    this.#engine = engineOf(store);
  }

  /**
   * Creates a session in status `created`.
   *
   * @example
   * const session = await store.sessions.create({ appName: 'planner', userId: 'alice' });
   */
  create<State = JsonObject>(input: CreateSessionInput): Promise<Session<State>> {
    return this.#engine.call(sessionsCreate, () => {
      const o = v.options('input', input, ['id', 'appName', 'userId', 'projectId', 'state', 'metadata', 'ctx'] as const);
      return [
        o.id === undefined ? randomUUID() : v.identifier('id', o.id),
        v.identifier('appName', o.appName),
        v.identifier('userId', o.userId),
        v.optionalIdentifier('projectId', o.projectId),
        o.state === undefined ? '{}' : v.jsonObject('state', o.state),
        o.metadata === undefined ? '{}' : v.jsonObject('metadata', o.metadata),
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal) as Promise<Session<State>>;
  }

  /**
   * The session, or `undefined` when there is none. `lastEvents` keeps only the newest n
   * events. `State` types its state for the caller (not checked: it is the JSON stored).
   */
  get<State = JsonObject>(id: string, options?: GetSessionOptions): Promise<Session<State> | undefined> {
    return this.#engine.call(sessionsGet, () => {
      const o = v.options('options', options, ['lastEvents'] as const);
      return [v.identifier('id', id), lastEvents(o.lastEvents)] as const;
    }, options?.signal) as Promise<Session<State> | undefined>;
  }

  /**
   * Appends an event and merges `stateDelta` into the state (JSON merge patch: nested
   * objects merge, `null` removes a key), atomically, in one SQL statement.
   *
   * @example
   * await store.sessions.appendEvent(id, { role: 'user', text: 'hi' }, { stateDelta: { 'user:alice:theme': 'dark' } });
   */
  appendEvent(
    id: string,
    event: JsonValue,
    options?: { stateDelta?: JsonObject } & WriteOptions,
  ): Promise<{ eventCount: number; lastUpdateTime: Timestamp }> {
    return this.#engine.call(sessionsAppendEvent, () => {
      const o = v.options('options', options, ['stateDelta', 'ctx'] as const);
      return [
        v.identifier('id', id),
        v.json('event', event),
        v.optionalJsonObject('stateDelta', o.stateDelta),
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /**
   * Moves a session along its lifecycle: created → active ⇄ paused → terminated → archived
   * (created, active and paused may also terminate). Other moves reject INVALID_STATE.
   */
  setStatus(id: string, status: SessionStatus, options?: WriteOptions): Promise<Session> {
    return this.#engine.call(sessionsSetStatus, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('id', id), v.oneOf('status', status, STATUSES), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }

  /** The whole state object, or one key of it (keys may contain colons: `user:alice:theme`). */
  getState<Value = JsonValue>(id: string, key?: string, options?: CallOptions): Promise<Value | undefined> {
    return this.#engine.call(sessionsGetState, () => {
      v.options('options', options, []);
      return [v.identifier('id', id), key === undefined ? null : v.text('key', key, 1024)] as const;
    }, options?.signal) as Promise<Value | undefined>;
  }

  /** Merges `delta` into the state (JSON merge patch) and returns the new state. */
  setState<State = JsonObject>(id: string, delta: JsonObject, options?: WriteOptions): Promise<State> {
    return this.#engine.call(sessionsSetState, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('id', id), v.jsonObject('delta', delta), v.auditContext(o.ctx)] as const;
    }, options?.signal) as Promise<State>;
  }

  /** A user's sessions, newest first. */
  listByUser<State = JsonObject>(userId: string, options?: SessionListOptions): Promise<Page<Session<State>>> {
    return this.#engine.call(sessionsListByUser, () => listArgs('userId', userId, options), options?.signal) as Promise<Page<Session<State>>>;
  }

  /** A project's sessions, newest first. */
  listByProject<State = JsonObject>(projectId: string, options?: SessionListOptions): Promise<Page<Session<State>>> {
    return this.#engine.call(sessionsListByProject, () => listArgs('projectId', projectId, options), options?.signal) as Promise<Page<Session<State>>>;
  }

  /** Deletes a session; its tasks, agents and checkpoints stay, with their session cleared. */
  delete(id: string, options?: WriteOptions): Promise<void> {
    return this.#engine.call(sessionsDelete, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('id', id), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }
}
