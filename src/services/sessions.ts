import { randomUUID } from 'node:crypto';
import { decodeCursor } from '../catalogue/cursor.js';
import {
  sessionsAppendEvent,
  sessionsAppendEvents,
  sessionsEvents,
  sessionsTrimEvents,
  type EventArg,
} from '../catalogue/session-events.js';
import {
  sessionsCreate,
  sessionsDelete,
  sessionsGet,
  sessionsGetState,
  sessionsListByProject,
  sessionsListByUser,
  sessionsSetState,
  sessionsSetStatus,
} from '../catalogue/sessions.js';
import type { StoreEngine } from '../api/engine.js';
import {
  SESSION_STATUSES,
  type AppendEventOptions,
  type AppendedEvent,
  type AppendedEvents,
  type CallOptions,
  type CreateSessionInput,
  type GetSessionOptions,
  type JsonObject,
  type JsonValue,
  type NewEvent,
  type Page,
  type Session,
  type SessionEvent,
  type SessionEventsOptions,
  type WatchSessionOptions,
  type SessionInfo,
  type SessionListOptions,
  type SessionStatus,
  type TrimmedEvents,
  type WriteOptions,
} from '../api/types.js';
import { invalidArgument } from '../api/errors.js';
import * as v from '../api/validate.js';
import { SessionEventsCache } from './session-events-cache.js';
import { watchSession } from './session-watch.js';

const MAX_EVENTS = 1_000_000_000;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;
/** Most events one appendEvents call takes, as lists return at most 1000 rows. */
const MAX_BATCH = 1000;

const lastEvents = (value: unknown): number | null => v.optionalInteger('lastEvents', value, 0, MAX_EVENTS);

function eventsArgs(id: unknown, opts: unknown) {
  const o = v.options('options', opts, ['afterSeq', 'beforeSeq', 'limit', 'order', 'cursor'] as const);
  const order = o.order === undefined ? 'asc' : v.oneOf('order', o.order, ['asc', 'desc'] as const);
  let after = o.afterSeq === undefined ? 0 : v.integer('afterSeq', o.afterSeq, 0, MAX_SEQ);
  let before = o.beforeSeq === undefined ? MAX_SEQ : v.integer('beforeSeq', o.beforeSeq, 1, MAX_SEQ);
  if (o.cursor !== undefined) {
    const [cursorOrder, seq] = decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number];
    if (cursorOrder !== order) throw invalidArgument(`cursor continues a list in ${cursorOrder} order, not ${order}`);
    if (order === 'asc') after = Math.max(after, seq);
    else before = Math.min(before, seq);
  }
  return [v.identifier('id', id), after, before, v.limit(o.limit), order] as const;
}

/** A batch of events: 1 to 1000, together within `maxBytes` (one call's payload). */
function eventArgs(value: unknown, maxBytes: number): EventArg[] {
  if (!Array.isArray(value)) throw invalidArgument(`events must be an array of { event, eventId? }, got ${value === null ? 'null' : typeof value}`);
  if (value.length === 0 || value.length > MAX_BATCH) {
    throw invalidArgument(`events must hold 1 to ${MAX_BATCH} events, got ${value.length}`);
  }
  let bytes = 0;
  return value.map((item: unknown, i): EventArg => {
    if (!v.isPlainObject(item)) throw invalidArgument(`events[${i}] must be an object like { event, eventId? }`);
    const o = v.options(`events[${i}]`, item, ['event', 'eventId'] as const);
    const event = v.json(`events[${i}].event`, o.event, maxBytes);
    bytes += Buffer.byteLength(event, 'utf8');
    if (bytes > maxBytes) {
      throw invalidArgument(`events[0..${i}] are ${bytes} bytes of JSON together, over the ${maxBytes}-byte limit (maxPayloadBytes); nothing was written`);
    }
    return [event, v.optionalIdentifier(`events[${i}].eventId`, o.eventId)];
  });
}

/** A list's sessions carry no events unless `lastEvents` asks for the newest n of each. */
function listArgs(owner: string, value: unknown, opts: unknown) {
  const o = v.options('options', opts, ['limit', 'cursor', 'lastEvents'] as const);
  const after = o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number]);
  return [v.identifier(owner, value), v.limit(o.limit), after, lastEvents(o.lastEvents) ?? 0] as const;
}

/** Sessions: an event history and a state object per conversation, with a lifecycle. */
export class Sessions {
  readonly #engine: StoreEngine;
  /** maxPayloadBytes and maxStateBytes, the store's limits. */
  readonly #payload: number;
  readonly #state: number;
  /** Events decoded on this thread, by session: a read fetches and decodes only those it lacks. */
  readonly #events: SessionEventsCache;

  /**
   * Each Store makes its own, on its engine: use `store.<service>`.
   *
   * @internal
   */
  constructor(engine: StoreEngine) {
    this.#engine = engine;
    this.#payload = this.#engine.options.maxPayloadBytes;
    this.#state = this.#engine.options.maxStateBytes;
    this.#events = new SessionEventsCache(this.#engine.options.decodeCacheBytes);
  }

  /**
   * Creates a session in status `created`.
   *
   * @example
   * const session = await store.sessions.create({ appName: 'planner', userId: 'alice' });
   */
  create<State = JsonObject>(input: CreateSessionInput): Promise<Session<State>> {
    return this.#engine.call(sessionsCreate, () => {
      const o = v.options('input', input, ['id', 'appName', 'userId', 'projectId', 'state', 'metadata', 'ctx'] as const, {
        required: ['appName', 'userId'],
      });
      return [
        o.id === undefined ? randomUUID() : v.identifier('id', o.id),
        v.identifier('appName', o.appName),
        v.identifier('userId', o.userId),
        v.optionalIdentifier('projectId', o.projectId),
        o.state === undefined ? '{}' : v.withinBytes('state', v.jsonObject('state', o.state, this.#payload), this.#state, 'maxStateBytes'),
        o.metadata === undefined ? '{}' : v.jsonObject('metadata', o.metadata, this.#payload),
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal) as Promise<Session<State>>;
  }

  /**
   * The session, or `undefined` when there is none, with its events oldest first. Without
   * `lastEvents` that is every event: a read of the whole log, the costly form for a long
   * session. `lastEvents: n` reads only the newest n, one index range at any length.
   * `State` types its state for the caller (not checked: it is the JSON stored).
   *
   * The events are decoded on this thread once while they stay in the store's decode cache
   * (`decodeCacheBytes`): a read of a session seen before fetches and parses only the events
   * it lacks. So the events returned are deep-frozen and shared by every read (copy one to
   * change it); the session object and its `events` array are the caller's own. With
   * `decodeCacheBytes: 0` they are fresh, mutable objects.
   */
  async get<State = JsonObject>(id: string, options?: GetSessionOptions): Promise<Session<State> | undefined> {
    let key = '';
    let recent: number | null = null;
    let mark = 0;
    const read = (holding: boolean) =>
      this.#engine.call(sessionsGet, () => {
        if (holding) {
          const o = v.options('options', options, ['lastEvents'] as const);
          key = v.identifier('id', id);
          recent = lastEvents(o.lastEvents);
        }
        mark = this.#events.mark;
        return [key, recent, holding ? this.#events.held(key) : null] as const;
      }, options?.signal);
    let stored = await read(true);
    if (stored === undefined) return undefined;
    let events = this.#events.decodeRange(key, stored.version, stored, mark);
    if (events === undefined) {
      // What the read left out is no longer held here (trimmed or replaced meanwhile): read it whole.
      stored = await read(false);
      if (stored === undefined) return undefined;
      events = this.#events.decodeRange(key, stored.version, stored, mark)!;
    }
    const session = stored.session as Session<State>;
    session.events = events;
    return session;
  }

  /**
   * Appends an event and merges `stateDelta` into the state (JSON merge patch: nested
   * objects merge, `null` removes a key), atomically. Costs the same at any length of the
   * log: one insert, one update of the session row, one audit row. Returns the event's seq.
   *
   * @example
   * const { seq } = await store.sessions.appendEvent(id, { role: 'user', text: 'hi' }, {
   *   eventId: 'msg-41', // a retry with the same id appends nothing and returns this seq
   *   stateDelta: { 'user:alice:theme': 'dark' },
   * });
   */
  appendEvent(id: string, event: JsonValue, options?: AppendEventOptions): Promise<AppendedEvent> {
    return this.#engine.call(sessionsAppendEvent, () => {
      const o = v.options('options', options, ['eventId', 'stateDelta', 'ctx'] as const);
      return [
        v.identifier('id', id),
        v.json('event', event, this.#payload),
        v.optionalIdentifier('eventId', o.eventId),
        v.optionalJsonObject('stateDelta', o.stateDelta, this.#payload),
        this.#state,
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /**
   * Appends up to 1000 events in one operation (all or none) and merges one `stateDelta`.
   * Each event may carry an `eventId`; events whose id the session already holds are not
   * appended again and get their first seq. A batch whose every event is already there
   * changes nothing, its state delta included.
   *
   * @example
   * const { seqs } = await store.sessions.appendEvents(id, [
   *   { event: { role: 'tool', name: 'search' }, eventId: 'call-7' },
   *   { event: { role: 'tool', result: 'found 3' }, eventId: 'call-7-result' },
   * ], { stateDelta: { step: 8 } });
   */
  appendEvents(
    id: string,
    events: readonly NewEvent[],
    options?: { stateDelta?: JsonObject } & WriteOptions,
  ): Promise<AppendedEvents> {
    return this.#engine.call(sessionsAppendEvents, () => {
      const o = v.options('options', options, ['stateDelta', 'ctx'] as const);
      return [
        v.identifier('id', id),
        eventArgs(events, this.#payload),
        v.optionalJsonObject('stateDelta', o.stateDelta, this.#payload),
        this.#state,
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /**
   * Follows a session's log as it grows: every event committed after `afterSeq` (default:
   * the session's last seq when the watch starts), in seq order, with no gap and no
   * duplicate, each as soon as it is committed, by this process or another. It parks
   * between events without polling the database and reads at most one page (100
   * events) ahead of its consumer, however slow that is. It ends when the session is
   * deleted; `break` releases it; an aborted `signal` rejects the pending step `ABORTED`,
   * and closing the store rejects it `CLOSED`. A session that does not exist is `NOT_FOUND`.
   *
   * @example
   * for await (const event of store.sessions.watch(id, { afterSeq: lastSeen, signal })) render(event);
   */
  watch(id: string, options?: WatchSessionOptions): AsyncIterableIterator<SessionEvent> {
    return watchSession(this.#engine, id, options);
  }

  /**
   * Pages through a session's log by seq: oldest first (or `order: 'desc'`), between
   * `afterSeq` and `beforeSeq` (both exclusive). Each page is one range of the primary
   * key, whatever the length of the log. A session that does not exist has no events.
   * Each item's `event` is decoded once and frozen, as {@link Sessions.get}'s events are.
   *
   * @example
   * let page = await store.sessions.events(id, { afterSeq: lastSeen, limit: 100 });
   * while (page.nextCursor) page = await store.sessions.events(id, { cursor: page.nextCursor, limit: 100 });
   */
  async events(id: string, options?: SessionEventsOptions): Promise<Page<SessionEvent>> {
    let args: ReturnType<typeof eventsArgs> | undefined;
    let mark = 0;
    const read = (holding: boolean) =>
      this.#engine.call(sessionsEvents, () => {
        args ??= eventsArgs(id, options);
        mark = this.#events.mark;
        return [...args, holding ? this.#events.held(args[0]) : null] as const;
      }, options?.signal);
    let page = await read(true);
    let items = this.#events.decodeRows(args![0], page.version, page.items, mark);
    if (items === undefined) {
      page = await read(false);
      items = this.#events.decodeRows(args![0], page.version, page.items, mark)!;
    }
    return { items, nextCursor: page.nextCursor };
  }

  /**
   * Deletes the oldest events of a session, keeping the newest `keepLast`, so a
   * long-lived session stays bounded. `eventCount` (events ever appended) does not change;
   * the seq of the oldest event kept is returned. Audited like every write.
   *
   * @example
   * const { deleted, firstSeq } = await store.sessions.trimEvents(id, { keepLast: 10_000 });
   */
  async trimEvents(id: string, options: { keepLast: number } & WriteOptions): Promise<TrimmedEvents> {
    let key = '';
    const trimmed = await this.#engine.call(sessionsTrimEvents, () => {
      const o = v.options('options', options, ['keepLast', 'ctx'] as const);
      key = v.identifier('id', id);
      return [key, v.integer('keepLast', o.keepLast, 0, MAX_SEQ), v.auditContext(o.ctx)] as const;
    }, options?.signal);
    this.#events.trimmed(key, trimmed.firstSeq);
    return trimmed;
  }

  /**
   * Moves a session along its lifecycle: created → active ⇄ paused → terminated → archived
   * (created, active and paused may also terminate). Other moves reject INVALID_STATE.
   */
  setStatus(id: string, status: SessionStatus, options?: WriteOptions): Promise<SessionInfo> {
    return this.#engine.call(sessionsSetStatus, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('id', id), v.oneOf('status', status, SESSION_STATUSES), v.auditContext(o.ctx)] as const;
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
      return [v.identifier('id', id), v.jsonObject('delta', delta, this.#payload), this.#state, v.auditContext(o.ctx)] as const;
    }, options?.signal) as Promise<State>;
  }

  /**
   * A user's sessions, newest first. They carry no events (`events: []`; `eventCount`
   * says how many were appended) unless `lastEvents: n` asks for each one's newest n.
   */
  listByUser<State = JsonObject>(userId: string, options?: SessionListOptions): Promise<Page<Session<State>>> {
    return this.#engine.call(sessionsListByUser, () => listArgs('userId', userId, options), options?.signal) as Promise<Page<Session<State>>>;
  }

  /** A project's sessions, newest first; events as {@link Sessions.listByUser}. */
  listByProject<State = JsonObject>(projectId: string, options?: SessionListOptions): Promise<Page<Session<State>>> {
    return this.#engine.call(sessionsListByProject, () => listArgs('projectId', projectId, options), options?.signal) as Promise<Page<Session<State>>>;
  }

  /** Deletes a session; its tasks, agents and checkpoints stay, with their session cleared. */
  async delete(id: string, options?: WriteOptions): Promise<void> {
    let key = '';
    await this.#engine.call(sessionsDelete, () => {
      const o = v.options('options', options, ['ctx'] as const);
      key = v.identifier('id', id);
      return [key, v.auditContext(o.ctx)] as const;
    }, options?.signal);
    this.#events.deleted(key);
  }
}
