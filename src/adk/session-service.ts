import {
  BaseSessionService,
  createEvent,
  createSession,
  type AppendEventRequest,
  type CreateSessionRequest,
  type DeleteSessionRequest,
  type Event,
  type GetSessionRequest,
  type ListSessionsRequest,
  type ListSessionsResponse,
  type Session,
} from '@google/adk';
import { randomUUID } from 'node:crypto';
import { invalidArgument, StoreError } from '../api/errors.js';
import { engineOf, type Store } from '../store.js';
import * as v from '../api/validate.js';
import {
  adkSessionsAppendEvent,
  adkSessionsCreate,
  adkSessionsDelete,
  adkSessionsGet,
  adkSessionsList,
  type AdkAppendResult,
  type AdkKey,
  type AdkSessionRecord,
} from '../catalogue/adk.js';
import { DecodeCache, deepFreeze } from '../services/decode-cache.js';
import type { StoreEngine } from '../api/engine.js';
import { mergeScopes, refreshState, splitScopes, withoutTemp, type StateRecord } from './state.js';
import { inSpan } from '../telemetry/instrument.js';

/** What `appendEvent` does with a session object older than the stored session. */
export type StalePolicy = 'reload' | 'reject';

/** Options of {@link AbathurSessionService}'s constructor. */
export interface AbathurSessionServiceOptions {
  /**
   * What `appendEvent` does with a session object older than the stored session (another
   * caller appended to that session since this object was read):
   * - `'reload'` (default), as ADK's DatabaseSessionService: the event is appended, then the
   *   object is brought up to date from the store (events and state; its temp: keys stay).
   * - `'reject'`: the append is refused with a `StoreError` of code `CONFLICT` and nothing
   *   changes: optimistic concurrency. Read the session again and retry.
   */
  onStale?: StalePolicy;
  /**
   * Bound of the decoded histories this service keeps, in bytes of event JSON (default: the
   * store's `decodeCacheBytes`, 64 MiB unless set; 0: none). With a session's events
   * cached, getSession reads and decodes only the events appended since (a Runner turn costs
   * the same at 10 or 10,000 events); the events it hands out are then frozen and shared.
   */
  decodeCacheBytes?: number;
}

const POLICIES: readonly StalePolicy[] = ['reload', 'reject'];

/** Checks a key the way every call does: non-empty ids without control characters. */
function keyOf(request: unknown, sessionId?: unknown): AdkKey {
  if (typeof request !== 'object' || request === null) throw invalidArgument(`expected a request object, got ${String(request)}`);
  const r = request as { appName?: unknown; userId?: unknown; sessionId?: unknown };
  return [v.identifier('appName', r.appName), v.identifier('userId', r.userId), v.identifier('sessionId', sessionId ?? r.sessionId)];
}

function plainState(name: string, value: unknown): StateRecord {
  if (value === undefined || value === null) return {};
  if (!v.isPlainObject(value)) throw invalidArgument(`${name} must be a plain object, got ${typeof value}`);
  return value;
}

/** JSON text of a scope's part, or null when it has no keys (nothing to merge). */
function scopeJson(name: string, part: StateRecord, maxBytes: number): string | null {
  return Object.keys(part).length === 0 ? null : v.jsonObject(name, part, maxBytes);
}

function parseObject(text: string | null): StateRecord {
  return text === null ? {} : (JSON.parse(text) as StateRecord);
}

/**
 * What createEvent adds to an event beyond its fields: the marker ADK's isEvent checks (a
 * symbol-keyed property, which JSON drops). Taken from a probe once, so stored events get
 * it without a createEvent call each (getSession rebuilds every event of a session).
 */
const EVENT_MARKS: readonly [symbol, unknown][] = (() => {
  const probe = createEvent({ id: 'probe', timestamp: 1 }) as unknown as Record<symbol, unknown>;
  return Object.getOwnPropertySymbols(probe).map((mark) => [mark, probe[mark]] as [symbol, unknown]);
})();

/**
 * A session's whole history as this service last decoded it: the stored session it belongs
 * to (a deleted and recreated session has another storeId), the events seqs `firstSeq` to
 * `eventCount`, frozen, as of `replacements` replaced events. It stands for the stored
 * history while those counters match what a read of the session says.
 */
interface History {
  readonly storeId: string;
  readonly replacements: number;
  readonly firstSeq: number;
  readonly eventCount: number;
  /**
   * The events, frozen, in the first `length` places of an array the cache owns: a later
   * history of the session appends to the same array (no copy a turn), so it may be longer.
   */
  readonly events: Event[];
  readonly length: number;
  /** Bytes of the events' JSON text: what the cache's bound counts. */
  readonly bytes: number;
}

/** The events' texts, decoded and frozen; `bytes` adds up their length. */
function decodeFrozen(texts: readonly string[]): { events: Event[]; bytes: number } {
  const events: Event[] = new Array<Event>(texts.length);
  let bytes = 0;
  for (let i = 0; i < texts.length; i++) {
    events[i] = deepFreeze(eventFromJson(texts[i]!));
    bytes += texts[i]!.length;
  }
  return { events, bytes };
}

/**
 * The history after `record`, a read of the events after `cached.eventCount`; undefined
 * when the record says the stored history changed otherwise (replaced or trimmed events, a
 * new incarnation of the session), or came from a read that did not start at that seq.
 */
function extended(cached: History, record: AdkSessionRecord): History | undefined {
  if (
    record.storeId !== cached.storeId ||
    record.replacements !== cached.replacements ||
    record.firstSeq !== cached.firstSeq ||
    record.eventCount - cached.eventCount !== record.events.length
  ) {
    return undefined;
  }
  if (record.events.length === 0) return cached;
  const added = decodeFrozen(record.events);
  // Appended in place when no later history took the array first (a read of the same
  // session that finished in between); else from a copy of this history's part.
  const events = cached.events.length === cached.length ? cached.events : cached.events.slice(0, cached.length);
  for (const event of added.events) events.push(event);
  return { ...cached, eventCount: record.eventCount, events, length: events.length, bytes: cached.bytes + added.bytes };
}

/** Room left in a handed-out copy of a history for the events a turn appends to it. */
const ROOM_FOR_TURN = 16;

/**
 * The first `length` events, in a new array with room for a turn's appends. A copy made
 * by `slice` is exactly full, so the turn's first `push` copies it again into an array
 * half as large again. At 64 sessions of 10,000 events, those second copies, alive across
 * the turn's awaits, more than doubled the caller's CPU per turn (docs/PERFORMANCE.md).
 * V8 keeps the capacity of an array shortened by a little, so `length = n` after
 * `new Array(n + room)` leaves the room; an engine that trims it only costs that copy again.
 */
function copyWithRoom(events: readonly Event[], length: number): Event[] {
  const copy = new Array<Event>(length + ROOM_FOR_TURN);
  copy.length = length;
  for (let i = 0; i < length; i++) copy[i] = events[i]!;
  return copy;
}

/** The history a read of the whole log gives. */
function wholeHistory(record: AdkSessionRecord): History {
  const { events, bytes } = decodeFrozen(record.events);
  return { storeId: record.storeId, replacements: record.replacements, firstSeq: record.firstSeq, eventCount: record.eventCount, events, length: events.length, bytes };
}

/** A stored event as ADK's own services return one: every stored field as stored, and createEvent's marker. */
function eventFromJson(text: string): Event {
  const event = JSON.parse(text) as Record<symbol, unknown>;
  for (const [mark, value] of EVENT_MARKS) event[mark] = value;
  return event as unknown as Event;
}

/** The state ADK sees in a stored session: its three scopes merged. */
function stateOf(record: AdkSessionRecord): StateRecord {
  return mergeScopes(parseObject(record.state), parseObject(record.appState), parseObject(record.userState));
}

function sessionFromRecord(key: AdkKey, record: AdkSessionRecord, events: Event[] = record.events.map(eventFromJson)): Session {
  return createSession({
    id: key[2],
    appName: key[0],
    userId: key[1],
    state: stateOf(record),
    events,
    lastUpdateTime: record.lastUpdateTime,
  });
}

/**
 * What a session object this service handed out holds of its stored session: the version
 * it matches, and the events it holds, seqs `firstSeq` to `eventCount` (none when
 * `firstSeq` is past `eventCount`), as of `replacements` replaced events.
 */
interface Holding {
  storeId: string;
  version: number;
  eventCount: number;
  replacements: number;
  firstSeq: number;
}

/** How a stale object catches up: the events read, after which seq, and whether they replace all it holds. */
interface CatchUp {
  record: AdkSessionRecord;
  whole: boolean;
}

/**
 * ADK's event delta semantics, as its BaseSessionService applies them: the caller's event
 * loses its temp: keys (its stateDelta becomes a null-prototype copy without them).
 */
function trimTempDelta(event: Event): void {
  const delta = event.actions?.stateDelta as StateRecord | undefined;
  if (delta === undefined) return;
  event.actions.stateDelta = Object.assign(Object.create(null) as StateRecord, withoutTemp(delta));
}

/**
 * The event ADK's appendEvent may write to: it replaces `actions.stateDelta` with a copy
 * without temp: keys. The events getSession hands out from its cache are frozen, so one
 * appended again (a retry, a copy into another session) is appended as a copy of it and
 * of its actions, the rest shared; any other event is appended as it is.
 */
function writable(event: Event): Event {
  const actions = (event as Partial<Event> | null | undefined)?.actions;
  if (typeof actions !== 'object' || actions === null || !Object.isFrozen(actions)) return event;
  return { ...event, actions: { ...actions } };
}

/**
 * An ADK session service on abathur-store: sessions, their events and the three state
 * scopes in the store's database, served by its writer and readers.
 *
 * Every append (the event row, the session, app and user state, the audit row) is one
 * write operation: one savepoint in the writer's group commit. Reads run on the reader pool.
 *
 * @example
 * // openStore from abathur-store, this class from abathur-store/adk, Runner from @google/adk
 * const store = await openStore({ path: './data/agents.db' });
 * const sessionService = new AbathurSessionService(store, { onStale: 'reject' });
 * const runner = new Runner({ appName: 'planner', agent, sessionService });
 */
export class AbathurSessionService extends BaseSessionService {
  readonly #engine: StoreEngine;
  readonly #onStale: StalePolicy;
  /** The store's maxPayloadBytes and maxStateBytes. */
  readonly #payload: number;
  readonly #state: number;
  /** What each session object this service handed out holds of its stored session. */
  readonly #holdings = new WeakMap<Session, Holding>();
  /** Whole histories already decoded, by `appName\0userId\0sessionId`. */
  readonly #histories: DecodeCache<string, History>;
  /**
   * The last append still running on each session object: appends to one object run one
   * after the other. Each updates the object from what it holds when its turn comes (the
   * events after its last); two at once would both read the same events and push them twice.
   */
  readonly #appending = new WeakMap<object, Promise<unknown>>();

  /** A session service on a store from `openStore`; closing the store stays the caller's business. */
  constructor(store: Store, options?: AbathurSessionServiceOptions) {
    super();
    let engine: StoreEngine;
    try {
      engine = engineOf(store);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw invalidArgument('AbathurSessionService expects a store from openStore()');
    }
    const o = v.options('options', options, ['onStale', 'decodeCacheBytes'] as const);
    this.#engine = engine;
    this.#onStale = o.onStale === undefined ? 'reload' : v.oneOf('options.onStale', o.onStale, POLICIES);
    this.#histories = new DecodeCache(
      o.decodeCacheBytes === undefined ? engine.options.decodeCacheBytes : v.integer('options.decodeCacheBytes', o.decodeCacheBytes, 0, 2 ** 40),
    );
    this.#payload = engine.options.maxPayloadBytes;
    this.#state = engine.options.maxStateBytes;
  }

  /**
   * Creates a session. app: and user: keys of `state` go to their scopes (as ADK's
   * DatabaseSessionService does), temp: keys are dropped. An id already used by this app
   * and user rejects with a `StoreError` of code `CONFLICT`, message
   * `Session with id <id> already exists.` (DatabaseSessionService's message).
   */
  override createSession(request: CreateSessionRequest): Promise<Session> {
    return inSpan(this.#engine, 'sessionService.createSession', () => this.#createSession(request));
  }

  async #createSession(request: CreateSessionRequest): Promise<Session> {
    let state: StateRecord = {};
    const storeId = randomUUID();
    const lastUpdateTime = Date.now();
    const created = await this.#engine.call(adkSessionsCreate, () => {
      // As ADK: an empty or missing id gets a generated one (a UUID v4).
      const key = keyOf(request, (request as { sessionId?: unknown } | undefined)?.sessionId || storeId);
      const scoped = splitScopes(plainState('state', request.state));
      state = scoped.session;
      return [
        key,
        storeId,
        v.withinBytes('state', v.jsonObject('state', scoped.session, this.#payload), this.#state, 'maxStateBytes'),
        scopeJson('state (app: keys)', scoped.app, this.#payload),
        scopeJson('state (user: keys)', scoped.user, this.#payload),
        lastUpdateTime,
        this.#state,
        undefined,
      ] as const;
    });
    const session = createSession({
      id: request.sessionId || storeId,
      appName: request.appName,
      userId: request.userId,
      state: mergeScopes(state, parseObject(created.appState), parseObject(created.userState)),
      events: [],
      lastUpdateTime,
    });
    this.#holdings.set(session, { storeId, version: 0, eventCount: 0, replacements: 0, firstSeq: 1 });
    return session;
  }

  /**
   * The session with its merged state and events in append order, or `undefined`.
   * `config.numRecentEvents` keeps the newest n events (0 or absent: all); then
   * `config.afterTimestamp` keeps the newest events whose timestamp is at or after it, up
   * to the first older one (as InMemorySessionService; 0 or absent: no filter).
   */
  override getSession(request: GetSessionRequest): Promise<Session | undefined> {
    return inSpan(this.#engine, 'sessionService.getSession', () => this.#getSession(request));
  }

  async #getSession(request: GetSessionRequest): Promise<Session | undefined> {
    const found = await this.#read(request);
    return found === undefined ? undefined : found.session;
  }

  async #read(request: GetSessionRequest): Promise<{ session: Session } | undefined> {
    let key: AdkKey | undefined;
    // A read of the whole history, of a session whose history is cached: only what was appended since.
    let cacheKey: string | undefined;
    let cached: History | undefined;
    const record = await this.#engine.call(adkSessionsGet, () => {
      key = keyOf(request);
      const config = request.config;
      if (config !== undefined && (typeof config !== 'object' || config === null)) throw invalidArgument('config must be an object');
      const recent = config?.numRecentEvents;
      const after = config?.afterTimestamp;
      const window = {
        // ADK treats 0 as "no limit"; a negative count is refused (ADK's two services disagree on it).
        recent: recent === undefined || recent === null ? null : v.integer('config.numRecentEvents', recent, 0, Number.MAX_SAFE_INTEGER) || null,
        after: after ? v.finiteNumber('config.afterTimestamp', after) : null,
        afterSeq: null as number | null,
      };
      if (window.recent === null && window.after === null && this.#histories.enabled) {
        cacheKey = key.join('\u0000');
        cached = this.#histories.get(cacheKey);
        window.afterSeq = cached?.eventCount ?? null;
      }
      return [key, window] as const;
    });
    if (cacheKey === undefined) {
      if (record === undefined) return undefined;
      const session = sessionFromRecord(key!, record);
      // The events read are the newest: a run that ends at the session's last seq.
      this.#holdings.set(session, { ...heldBy(record), firstSeq: record.eventCount - record.events.length + 1 });
      return { session };
    }
    let current = record;
    let history = current === undefined ? undefined : cached === undefined ? wholeHistory(current) : extended(cached, current);
    if (current !== undefined && history === undefined) {
      // Changed otherwise than by appends since it was cached: read it whole again.
      current = await this.#engine.call(adkSessionsGet, () => [key!, { recent: null, after: null, afterSeq: null }] as const);
      history = current === undefined ? undefined : wholeHistory(current);
    }
    if (current === undefined || history === undefined) {
      this.#histories.delete(cacheKey);
      return undefined;
    }
    this.#histories.set(cacheKey, history, history.bytes);
    // A copy of the array (the Runner appends to it); the events in it are shared and frozen.
    const session = sessionFromRecord(key!, current, copyWithRoom(history.events, history.length));
    this.#holdings.set(session, { ...heldBy(current), firstSeq: history.firstSeq });
    return { session };
  }

  /**
   * Lists sessions of an app (one user's, or every user's when `userId` is absent), with
   * ADK's pagination: `limit`, then `page` (1-based) or `offset`; `order` by lastUpdateTime,
   * ties by id (`localeCompare`) in both directions. Items carry no events and an empty
   * state, as InMemorySessionService's do. Without `order`, sessions come by user, then id.
   */
  override listSessions(request: ListSessionsRequest): Promise<ListSessionsResponse> {
    return inSpan(this.#engine, 'sessionService.listSessions', () => this.#listSessions(request));
  }

  async #listSessions(request: ListSessionsRequest): Promise<ListSessionsResponse> {
    let paging = { limit: undefined as number | undefined, offset: 0, page: undefined as number | undefined };
    const listed = await this.#engine.call(adkSessionsList, () => {
      const r = request as Partial<ListSessionsRequest> | undefined;
      const appName = v.identifier('appName', r?.appName);
      const userId = r?.userId === undefined ? null : v.identifier('userId', r.userId);
      const order = r?.order === undefined ? null : v.oneOf('order', r.order, ['asc', 'desc'] as const);
      const limit = r?.limit === undefined ? undefined : v.integer('limit', r.limit, 0, Number.MAX_SAFE_INTEGER);
      const offset = r?.offset === undefined || r.offset === null ? undefined : v.integer('offset', r.offset, 0, Number.MAX_SAFE_INTEGER);
      const page = r?.page === undefined ? undefined : v.integer('page', r.page, 1, Number.MAX_SAFE_INTEGER);
      // InMemorySessionService's arithmetic: without a limit, `offset` slices and `page` is ignored.
      const start = limit === undefined ? (offset ?? 0) : page !== undefined ? (page - 1) * limit : (offset ?? 0);
      paging = { limit, offset: start, page };
      return [appName, userId, order, start, limit ?? -1] as const;
    });
    const sessions = listed.sessions.map(([id, userId, lastUpdateTime]) =>
      createSession({ id, appName: request.appName, userId, state: {}, events: [], lastUpdateTime }),
    );
    const totalItems = listed.total;
    const { limit, offset, page } = paging;
    if (limit === undefined) {
      return { sessions, page: 1, limit: totalItems, totalItems, totalPages: totalItems === 0 ? 0 : 1 };
    }
    return {
      sessions,
      page: page ?? (limit === 0 ? 1 : Math.floor(offset / limit) + 1),
      limit,
      totalItems,
      totalPages: limit === 0 ? 0 : Math.ceil(totalItems / limit),
    };
  }

  /** Deletes a session and its events; a missing session is no error. app: and user: state stay. */
  override deleteSession(request: DeleteSessionRequest): Promise<void> {
    return inSpan(this.#engine, 'sessionService.deleteSession', () => this.#deleteSession(request));
  }

  async #deleteSession(request: DeleteSessionRequest): Promise<void> {
    await this.#engine.call(adkSessionsDelete, () => [keyOf(request), undefined] as const);
  }

  /**
   * Appends an event (a partial event is not stored) and applies its state delta to the
   * three scopes, then to `session` in place, as ADK's Runner expects. An event whose id
   * the session already has replaces that event where it stands and its delta applies
   * again (ADK's rule), so an event is stored once however often it is sent: a retry after
   * `OUTCOME_UNKNOWN` never duplicates it. A missing session rejects `NOT_FOUND`; an
   * append from a stale `session` object is handled as `onStale` says. An event getSession
   * handed out (frozen) is appended as a copy, which is what `session` gains and what this returns.
   */
  override appendEvent(request: AppendEventRequest): Promise<Event> {
    return inSpan(this.#engine, 'sessionService.appendEvent', () => this.#inTurn(request?.session, () => this.#appendEvent(request)));
  }

  /** Runs `append` after the appends to `session` already running (as ADK's services, in call order). */
  #inTurn<T>(session: unknown, append: () => Promise<T>): Promise<T> {
    if (typeof session !== 'object' || session === null) return append();
    const before = this.#appending.get(session);
    const result = before === undefined ? append() : before.then(append, append);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    this.#appending.set(session, done);
    void done.then(() => {
      if (this.#appending.get(session) === done) this.#appending.delete(session);
    });
    return result;
  }

  async #appendEvent(request: AppendEventRequest): Promise<Event> {
    const given: unknown = request;
    if (typeof given !== 'object' || given === null) throw invalidArgument(`expected a request object, got ${String(given)}`);
    const { session, event: sent } = request;
    if (sent?.partial) return sent;
    const event = writable(sent);
    let key: AdkKey | undefined;
    const holding = typeof session === 'object' && session !== null ? this.#holdings.get(session) : undefined;
    const result = await this.#engine.call(adkSessionsAppendEvent, () => {
      if (typeof session !== 'object' || session === null) throw invalidArgument('session must be a Session object');
      if (typeof event !== 'object' || event === null) throw invalidArgument('event must be an Event object');
      key = keyOf({ appName: session.appName, userId: session.userId }, session.id);
      const eventId = v.identifier('event.id', event.id);
      const timestamp = v.finiteNumber('event.timestamp', event.timestamp);
      const delta = plainState('event.actions.stateDelta', event.actions?.stateDelta);
      const scoped = splitScopes(delta);
      const stored = event.actions === undefined ? event : { ...event, actions: { ...event.actions, stateDelta: withoutTemp(delta) } };
      return [
        {
          key,
          eventId,
          event: v.json('event', stored, this.#payload),
          timestamp,
          sessionDelta: scopeJson('event.actions.stateDelta', scoped.session, this.#payload),
          appDelta: scopeJson('event.actions.stateDelta (app: keys)', scoped.app, this.#payload),
          userDelta: scopeJson('event.actions.stateDelta (user: keys)', scoped.user, this.#payload),
          known: holding === undefined ? null : ([holding.storeId, holding.version] as const),
          knownLastUpdateTime: typeof session.lastUpdateTime === 'number' ? session.lastUpdateTime : 0,
          onStale: this.#onStale,
          maxStateBytes: this.#state,
        },
        undefined,
      ] as const;
    });
    if (!result.stale) {
      if (holding !== undefined && !result.replaced) {
        // A new event, to an object this service handed out (so it holds no event of that
        // id): ADK's own appendEvent would search the whole history for one (O(n) a turn).
        // It runs on a view with no events, sharing the state it updates, and the event is
        // pushed here.
        const view = { ...session, events: [] as Event[] };
        await super.appendEvent({ session: view, event });
        for (const added of view.events) session.events.push(added);
      } else {
        await super.appendEvent({ session, event });
      }
      session.lastUpdateTime = event.timestamp;
      // An object this service did not hand out, judged current: it holds the newest events.
      const firstSeq = holding?.firstSeq ?? Math.max(1, result.eventCount - session.events.length + 1);
      this.#holdings.set(session, { ...heldBy(result), firstSeq });
      return event;
    }
    // Stale and reloading: the stored session already holds this event and, after it,
    // whatever others appended. Applying the delta again here could undo their later
    // writes, so the object takes the stored events and state instead.
    trimTempDelta(event);
    const caught = await this.#catchUp(key!, holding, result);
    if (caught === undefined) {
      // Deleted in between: the object keeps what it was, plus this event.
      await super.appendEvent({ session, event });
      session.lastUpdateTime = event.timestamp;
      return event;
    }
    const { record, whole } = caught;
    // In place, one event at a time: the Runner holds this very array, and spreading a
    // long log into one call's arguments overflows the stack.
    if (whole) session.events.length = 0;
    for (const text of record.events) {
      const stored = eventFromJson(text);
      session.events.push(stored.id === event.id ? event : stored);
    }
    if (!whole && result.replaced && result.seq <= holding!.eventCount) {
      // This append replaced an event the object may hold: it stands where that one stood.
      const at = session.events.findIndex((held) => held.id === event.id);
      if (at >= 0) session.events[at] = event;
    }
    refreshState(session.state, stateOf(record));
    session.lastUpdateTime = record.lastUpdateTime;
    const firstSeq = whole ? record.eventCount - record.events.length + 1 : holding!.firstSeq;
    this.#holdings.set(session, { ...heldBy(record), firstSeq });
    return event;
  }

  /**
   * Reads what a stale object lacks after its append: the events after the last one it
   * holds, when all that changed since is appends; its events again from its first one,
   * when another caller replaced an event since (the object's copy may be the old one);
   * the whole session, when the object is of another incarnation of the session or was not
   * handed out by this service. Undefined when the session is gone.
   */
  async #catchUp(key: AdkKey, holding: Holding | undefined, appended: AdkAppendResult): Promise<CatchUp | undefined> {
    const read = (afterSeq: number): Promise<AdkSessionRecord | undefined> =>
      this.#engine.call(adkSessionsGet, () => [key, { recent: null, after: null, afterSeq }] as const);
    if (holding === undefined || holding.storeId !== appended.storeId) return wholeSession(await read(0));
    const record = await read(holding.eventCount);
    if (record === undefined) return undefined;
    if (record.storeId !== holding.storeId) return wholeSession(await read(0));
    const replacedByOthers = record.replacements - holding.replacements - (appended.replaced ? 1 : 0);
    if (replacedByOthers <= 0) return { record, whole: false };
    const again = await read(holding.firstSeq - 1);
    return wholeSession(again !== undefined && again.storeId !== holding.storeId ? await read(0) : again);
  }
}

function wholeSession(record: AdkSessionRecord | undefined): CatchUp | undefined {
  return record === undefined ? undefined : { record, whole: true };
}

/** A holding's counters as of a read or an append (its first seq is the caller's to give). */
function heldBy(source: AdkSessionRecord | AdkAppendResult): Omit<Holding, 'firstSeq'> {
  return { storeId: source.storeId, version: source.version, eventCount: source.eventCount, replacements: source.replacements };
}
