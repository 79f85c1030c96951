import { aborted, StoreError } from '../api/errors.js';
import type { SessionEvent, WatchSessionOptions } from '../api/types.js';
import * as v from '../api/validate.js';
import { sessionsEvents, type SessionVersion } from '../catalogue/session-events.js';
import { sessionsHeads } from '../catalogue/session-watch.js';
import type { StoreEngine } from '../api/engine.js';
import { eventsOfRows } from './session-events-cache.js';
import { wakeupsOf, type HeadsReader } from './wakeups.js';

/**
 * Events a watcher reads from the log at a time. It reads the next page only when its
 * consumer has taken the last one, so a slow consumer holds at most this many events in
 * memory however far behind it falls; the rest wait in the log.
 */
export const WATCH_PAGE = 100;
/** Sessions looked up in one read when another process may have written. */
const HEADS_CHUNK = 1000;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** The sessions' last seqs, a chunk per read. */
function headsOf(engine: StoreEngine): HeadsReader {
  return async (ids) => {
    const heads: (number | null)[] = [];
    for (let i = 0; i < ids.length; i += HEADS_CHUNK) {
      const chunk = ids.slice(i, i + HEADS_CHUNK);
      for (const head of await engine.call(sessionsHeads, () => [chunk] as const)) heads.push(head);
    }
    return heads;
  };
}

/**
 * The events of session `id` committed after `afterSeq`, in seq order, with no gap (but
 * what `trimEvents` removed before it was read) and no duplicate, as they commit. Between
 * events it parks without polling: this store's appends wake it directly, other processes'
 * commits through the engine's watch (SQLite: the WAL file, then one read of every watched
 * session's last seq; PostgreSQL: LISTEN). Ends when the session is deleted; rejects the
 * pending step ABORTED when `signal` aborts and CLOSED when the store closes; `break`
 * (the iterator's `return`) releases it.
 */
export function watchSession(engine: StoreEngine, id: string, options: WatchSessionOptions | undefined): AsyncGenerator<SessionEvent, void, undefined> {
  // The session's last seq is read now, when watch() is called, not when the caller first
  // asks for an event: an event appended in between is the caller's to see. (A refusal
  // waits for the first step, as an async call's would.)
  const start = engine.call(sessionsHeads, () => {
    v.options('options', options, ['afterSeq'] as const);
    return [[v.identifier('id', id)]] as const;
  }, options?.signal);
  start.catch(() => {});
  return follow(engine, id, options, start);
}

async function* follow(
  engine: StoreEngine,
  idArg: string,
  options: WatchSessionOptions | undefined,
  start: Promise<readonly (number | null)[]>,
): AsyncGenerator<SessionEvent, void, undefined> {
  const o = v.options('options', options, ['afterSeq'] as const);
  const id = v.identifier('id', idArg);
  const last = o.afterSeq === undefined ? undefined : v.integer('afterSeq', o.afterSeq, 0, MAX_SEQ);
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new StoreError('INVALID_ARGUMENT', 'signal must be an AbortSignal');
  const heads = headsOf(engine);
  const hub = wakeupsOf(engine);
  const sleeper = hub.addWatcher(id, heads);
  try {
    const [head] = await start;
    // Listening before the first read of the log: an event committed in between wakes it.
    await hub.ready;
    if (head === null || head === undefined) throw new StoreError('NOT_FOUND', `session ${id} does not exist`);
    let seq: number = last ?? head;
    sleeper.lastSeq = seq;
    // The session it follows: a session deleted and created again with the same id, before
    // the watcher looked, is another session, whose seqs start again at 1. Its first page's
    // (rowid, created at) tell them apart; its head, lower than a seq this one reached,
    // where no page says.
    let reached = head;
    let self: SessionVersion | undefined;
    for (;;) {
      const after: number = seq;
      const page = await engine.call(sessionsEvents, () => [id, after, MAX_SEQ, WATCH_PAGE, 'asc', null] as const, signal);
      if (page.version !== null) {
        if (self !== undefined && (page.version[0] !== self[0] || page.version[1] !== self[1])) return;
        self = page.version;
      }
      for (const event of eventsOfRows(page.items)) {
        if (signal?.aborted) throw aborted('sessions.watch', signal);
        seq = reached = event.seq;
        sleeper.lastSeq = seq;
        yield event;
      }
      // A full page: there may be more already. Otherwise everything committed when it was read has been delivered.
      if (page.items.length === WATCH_PAGE) continue;
      if (page.items.length === 0) {
        // Woken, and nothing new: the session may be gone (a delete wakes its watchers too).
        const [now] = await engine.call(sessionsHeads, () => [[id]] as const, signal);
        if (now === null || now === undefined || now < reached) return;
      }
      await sleeper.park(Infinity, signal, 'sessions.watch');
    }
  } finally {
    hub.removeWatcher(sleeper);
  }
}
