import { StoreError } from './errors.js';

/**
 * What an engine tells the services that wait (waiting claims, session watchers) about:
 * - `local`: a write of this store settled (committed, or failed: a failure may still have
 *   committed when its outcome is unknown, and a spurious wake-up only costs a look);
 * - `external`: another process (or another store on the same database) may have
 *   committed. SQLite cannot say what changed; PostgreSQL names the channel's subject;
 * - `closed`: the store is closing; every waiter ends with `CLOSED`.
 */
export type StoreChange =
  | { readonly kind: 'local'; readonly operation: string; readonly args: readonly unknown[]; readonly result: unknown; readonly ok: boolean }
  | { readonly kind: 'external'; readonly tasks?: { readonly agentType: string }; readonly sessionId?: string }
  | { readonly kind: 'closed' };

export type ChangeListener = (change: StoreChange) => void;

/** A running watch for other processes' commits: `ready` once it hears them (a LISTEN answered), `stop` ends it. */
export interface ExternalWatcher {
  readonly ready: Promise<void>;
  stop(): void;
}

/** Starts an engine's watch for other processes' commits. */
export type ExternalWatch = (emit: (change: StoreChange) => void) => ExternalWatcher;

/** A listener's subscription: `ready` once other processes' commits are heard too; `unsubscribe` ends it. */
export interface ChangeSubscription {
  readonly ready: Promise<void>;
  unsubscribe(): void;
}

/**
 * One engine's listeners. The watch for other processes' commits (a file watch, a LISTEN
 * connection) runs only while someone listens: an idle store pays nothing for it.
 */
export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  readonly #startExternal: ExternalWatch;
  #external: ExternalWatcher | undefined;
  #closed = false;

  constructor(startExternal: ExternalWatch) {
    this.#startExternal = startExternal;
  }

  /** True while someone listens: the engine skips building local changes otherwise. */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /** Adds a listener. Throws CLOSED once the engine is closing. */
  subscribe(listener: ChangeListener): ChangeSubscription {
    if (this.#closed) throw new StoreError('CLOSED', 'store is closed');
    this.#listeners.add(listener);
    this.#external ??= this.#startExternal((change) => this.#emit(change));
    return {
      ready: this.#external.ready,
      unsubscribe: () => {
        this.#listeners.delete(listener);
        if (this.#listeners.size === 0) this.#stop();
      },
    };
  }

  /** A write of this store settled. */
  local(operation: string, args: readonly unknown[], result: unknown, ok: boolean): void {
    this.#emit({ kind: 'local', operation, args, result, ok });
  }

  /** Tells the listeners, if any, how a write just accepted settles: both engines' one way to do it. */
  observeWrite(operation: string, args: readonly unknown[], result: Promise<unknown>): void {
    if (!this.active) return;
    result.then(
      (value) => this.local(operation, args, value, true),
      () => this.local(operation, args, undefined, false),
    );
  }

  /** The engine is closing: every listener hears it once, and none is added after. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#emit({ kind: 'closed' });
    this.#listeners.clear();
    this.#stop();
  }

  #stop(): void {
    const external = this.#external;
    this.#external = undefined;
    external?.stop();
  }

  #emit(change: StoreChange): void {
    // A copy: a listener may unsubscribe (or another subscribe) while it is told.
    for (const listener of [...this.#listeners]) listener(change);
  }
}
