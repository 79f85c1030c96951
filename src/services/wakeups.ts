import type { ChangeSubscription, StoreChange } from '../api/change-feed.js';
import { StoreError } from '../api/errors.js';
import type { StoreEngine } from '../api/engine.js';

/**
 * One waiting claim or one session watcher, parked until a change may concern it. `park`
 * gives the promise it waits on; `wake` settles it. A wake while it is not parked is
 * remembered (`woken`), so a change that lands between a look and the park is not lost.
 */
export class Sleeper {
  woken = false;
  /** Set when the wake came from a change that says nothing of what changed. */
  vague = false;
  #resolve: (() => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  get parked(): boolean {
    return this.#resolve !== undefined;
  }

  wake(vague: boolean): void {
    this.woken = true;
    this.vague ||= vague;
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.();
  }

  fail(error: unknown): void {
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(error);
  }

  /**
   * Waits for a wake, at most `ms` (Infinity: no timer), unless woken since the last park.
   * Rejects ABORTED when `signal` aborts, and with the error `fail` is given.
   */
  park(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    this.vague = false;
    if (signal?.aborted) return Promise.reject(abortedWait(what, signal));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        this.#resolve = this.#reject = undefined;
        done();
        reject(abortedWait(what, signal!));
      };
      this.#resolve = () => {
        done();
        this.woken = false;
        resolve();
      };
      this.#reject = (error) => {
        done();
        reject(error);
      };
      if (Number.isFinite(ms)) timer = setTimeout(() => this.#resolve?.(), Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

const closedError = (): StoreError => new StoreError('CLOSED', 'store is closed; the wait ended');

function abortedWait(what: string, signal: AbortSignal): StoreError {
  return new StoreError('ABORTED', `${what} was aborted while it waited`, { cause: signal.reason });
}

/** A parked claim: which tasks it takes (null: any agent type). */
export interface ClaimSleeper extends Sleeper {
  readonly agentType: string | null;
}

/** A session watcher: its session, and the last seq it has delivered. */
export interface WatchSleeper extends Sleeper {
  readonly sessionId: string;
  lastSeq: number;
}

/** How an external change that names no session is checked: which watched sessions moved. */
export type HeadsReader = (ids: readonly string[]) => Promise<readonly (number | null)[]>;

/** How long the change subscription outlives its last waiter. */
const LINGER_MS = 10_000;

/** Writes that may make a task claimable: a new task, one back to pending, a dependency completed. */
const TASK_WRITES = new Set(['tasks.create', 'tasks.complete', 'tasks.fail', 'tasks.cancel', 'tasks.heartbeat']);
/** Writes that grow a session's log or end it. */
const EVENT_WRITES = new Set(['sessions.appendEvent', 'sessions.appendEvents', 'sessions.delete']);
/** The ADK adapter's writes to a session's log, which name the session by its ADK key. */
const ADK_APPEND = 'adk.sessions.appendEvent';
const ADK_DELETE = 'adk.sessions.delete';

/**
 * The waiting claims and session watchers of one engine, and the one subscription to its
 * changes they share, held only while any of them exists. Each change wakes only whom it
 * may concern: a new task one claim that can take it (as soon as its create is queued,
 * where the engine runs writes in order; else once it commits), an appended event its
 * session's watchers. A change that names nothing (another process wrote to a SQLite file) wakes the
 * first claim of each agent type, which passes the wake on when it claims something, and
 * checks the watched sessions in one read.
 */
export class Wakeups {
  /**
   * Bumped by every wake that names a new task (a create of this store): a claim that found
   * nothing looks again if it moved meanwhile. The claim that wake reached may take an
   * older task, one that the empty look passed over (SKIP LOCKED) while that claim held it,
   * and it passes nothing on, so the new task would wait with everyone parked. A vague wake
   * (another process's commit, a completion, a failure, a lease handed back) needs no
   * bump: the claim it reaches passes it on when it claims something, until a look finds
   * nothing. Bumping on those too made every empty look run again whenever any task
   * completed meanwhile, which under load is nearly every look.
   */
  tasksEpoch = 0;
  readonly #engine: StoreEngine;
  readonly #claims: ClaimSleeper[] = [];
  readonly #watchers = new Map<string, Set<WatchSleeper>>();
  #heads: HeadsReader | undefined;
  #subscription: ChangeSubscription | undefined;
  #closed = false;
  #checking = false;
  #linger: NodeJS.Timeout | undefined;
  #checkAgain = false;

  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /** Parks a claim; throws CLOSED once the store is closing. Call {@link Wakeups.removeClaim} when done. */
  addClaim(agentType: string | null): ClaimSleeper {
    this.#subscribe();
    const sleeper = Object.assign(new Sleeper(), { agentType });
    this.#claims.push(sleeper);
    return sleeper;
  }

  removeClaim(sleeper: ClaimSleeper): void {
    const i = this.#claims.indexOf(sleeper);
    if (i >= 0) this.#claims.splice(i, 1);
    // A wake it had not used yet (it claimed, timed out or was aborted first) goes to the next.
    if (sleeper.woken) this.passOn(sleeper);
    this.#release();
  }

  /**
   * A parked claim that claimed a task after a vague wake, or leaves with a wake unused:
   * the next one of its kind looks too. One that took any type may have had a wake meant
   * for a task of any type: the first of each kind looks.
   */
  passOn(from: ClaimSleeper): void {
    if (from.agentType === null) {
      this.#wakeEachKind(from);
      return;
    }
    const takes = (s: ClaimSleeper): boolean => s !== from && !s.woken && (s.agentType === null || s.agentType === from.agentType);
    (this.#claims.find((s) => s.parked && takes(s)) ?? this.#claims.find(takes))?.wake(true);
  }

  addWatcher(sessionId: string, heads: HeadsReader): WatchSleeper {
    this.#subscribe();
    this.#heads = heads;
    const sleeper = Object.assign(new Sleeper(), { sessionId, lastSeq: 0 });
    let set = this.#watchers.get(sessionId);
    if (set === undefined) this.#watchers.set(sessionId, (set = new Set()));
    set.add(sleeper);
    return sleeper;
  }

  removeWatcher(sleeper: WatchSleeper): void {
    const set = this.#watchers.get(sleeper.sessionId);
    set?.delete(sleeper);
    if (set?.size === 0) this.#watchers.delete(sleeper.sessionId);
    this.#release();
  }

  /** Resolves once other processes' commits are heard (a LISTEN answered): look only after it, or a commit in between is missed. */
  get ready(): Promise<void> {
    return this.#subscription?.ready ?? Promise.resolve();
  }

  #subscribe(): void {
    if (this.#closed) throw closedError();
    this.#subscription ??= this.#engine.watchChanges((change) => this.#onChange(change));
  }

  /**
   * Lets go of the subscription once nobody has waited for a while. Not at once: a worker
   * loop parks again right after each task, and a LISTEN connection costs a connect.
   */
  #release(): void {
    if (this.#claims.length > 0 || this.#watchers.size > 0 || this.#linger !== undefined) return;
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      if (this.#claims.length > 0 || this.#watchers.size > 0) return;
      const subscription = this.#subscription;
      this.#subscription = undefined;
      subscription?.unsubscribe();
    }, LINGER_MS);
    this.#linger.unref();
  }

  #onChange(change: StoreChange): void {
    if (change.kind === 'closed') {
      this.#closed = true;
      this.#subscription = undefined;
      for (const sleeper of this.#claims) sleeper.fail(closedError());
      for (const set of this.#watchers.values()) for (const sleeper of set) sleeper.fail(closedError());
      return;
    }
    if (change.kind === 'accepted') {
      // The engine runs writes in order: the claim woken now looks after the create has run.
      if (change.operation === 'tasks.create') {
        this.tasksEpoch++;
        this.#wakeOneClaim((change.args[0] as { agentType: string }).agentType);
      }
      return;
    }
    if (change.kind === 'local') {
      if (TASK_WRITES.has(change.operation)) {
        const created = change.operation === 'tasks.create' && change.ok ? (change.result as { agentType: string }).agentType : undefined;
        // A create announced when accepted has already woken its claim.
        if (created !== undefined) {
          this.tasksEpoch++;
          if (!change.announced) this.#wakeOneClaim(created);
        } else {
          this.#wakeEachKind();
        }
      } else if (EVENT_WRITES.has(change.operation)) {
        this.#wakeWatchers(change.args[0] as string);
      } else if (change.operation === ADK_APPEND) {
        // The ADK adapter names its session by (app, user, id); the result names the store session.
        if (change.ok) this.#wakeWatchers((change.result as { storeId: string }).storeId);
      } else if (change.operation === ADK_DELETE) {
        // Its result does not name the store session: the watched sessions' heads say whose it was.
        if (change.ok && change.result === true) void this.#checkWatchers();
      }
      return;
    }
    // Another process: PostgreSQL says what changed, SQLite does not.
    if (change.tasks !== undefined) {
      this.#wakeOneClaim(change.tasks.agentType, true);
    } else if (change.sessionId !== undefined) {
      this.#wakeWatchers(change.sessionId, true);
    } else {
      this.#wakeEachKind();
      void this.#checkWatchers();
    }
  }

  /** The first claim that can take a task of `agentType`, that no wake has reached yet. */
  #wakeOneClaim(agentType: string, vague = false): void {
    const takes = (s: ClaimSleeper): boolean => s.agentType === null || s.agentType === agentType;
    // A parked claim first; else one looking now, which then looks once more.
    (this.#claims.find((s) => s.parked && takes(s)) ?? this.#claims.find((s) => !s.woken && takes(s)))?.wake(vague);
  }

  #wakeEachKind(except?: ClaimSleeper): void {
    const seen = new Set<string | null>();
    for (const sleeper of this.#claims) {
      if (sleeper === except || seen.has(sleeper.agentType)) continue;
      seen.add(sleeper.agentType);
      if (!sleeper.woken) sleeper.wake(true);
    }
  }

  #wakeWatchers(sessionId: string, vague = false): void {
    const set = this.#watchers.get(sessionId);
    if (set !== undefined) for (const sleeper of set) sleeper.wake(vague);
  }

  /** One read of every watched session's last seq; wakes the watchers behind it, and those whose session is gone. */
  async #checkWatchers(): Promise<void> {
    if (this.#watchers.size === 0 || this.#heads === undefined) return;
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#checkAgain = false;
        const ids = [...this.#watchers.keys()];
        let heads: readonly (number | null)[];
        try {
          heads = await this.#heads(ids);
        } catch {
          // Closing, or overloaded: wake them all, each looks for itself.
          for (const id of ids) this.#wakeWatchers(id, true);
          return;
        }
        ids.forEach((id, i) => {
          const head = heads[i] ?? null;
          for (const sleeper of this.#watchers.get(id) ?? []) if (head === null || head > sleeper.lastSeq) sleeper.wake(true);
        });
      } while (this.#checkAgain);
    } finally {
      this.#checking = false;
    }
  }
}

const hubs = new WeakMap<StoreEngine, Wakeups>();

/** The engine's one {@link Wakeups}. */
export function wakeupsOf(engine: StoreEngine): Wakeups {
  let hub = hubs.get(engine);
  if (hub === undefined) hubs.set(engine, (hub = new Wakeups(engine)));
  return hub;
}
