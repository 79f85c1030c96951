import { StoreError } from './errors.js';

/**
 * What an engine tells the services that wait (waiting claims, session watchers) about:
 * - `accepted`: a write of this store was queued. Only an engine that runs its writes one
 *   at a time in the order it accepted them says so (SQLite's one writer): a write accepted
 *   after this one sees its effect, so a claim woken now looks right behind the task it
 *   was woken for, often in the same group commit, instead of after its commit's answer;
 * - `local`: a write of this store settled (committed, or failed: a failure may still have
 *   committed when its outcome is unknown, and a spurious wake-up only costs a look);
 *   `announced` when an `accepted` change went out for it first;
 * - `external`: another process (or another store on the same database) may have
 *   committed. SQLite cannot say what changed; PostgreSQL names the channel's subject;
 * - `closed`: the store is closing; every waiter ends with `CLOSED`.
 */
export type StoreChange =
  | { readonly kind: 'accepted'; readonly operation: string; readonly args: readonly unknown[] }
  | {
      readonly kind: 'local';
      readonly operation: string;
      readonly args: readonly unknown[];
      readonly result: unknown;
      readonly ok: boolean;
      readonly announced: boolean;
    }
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
  readonly #inOrder: boolean;
  #external: ExternalWatcher | undefined;
  #closed = false;

  /** `inOrder`: the engine runs its writes one at a time in the order it accepted them, and says when it accepts one. */
  constructor(startExternal: ExternalWatch, options: { inOrder?: boolean } = {}) {
    this.#startExternal = startExternal;
    this.#inOrder = options.inOrder === true;
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

  /**
   * Tells the listeners, if any, of a write just accepted (where the engine keeps its
   * writes in order) and of how it settles: both engines' one way to do it. Called once
   * the write is queued, so that what a listener queues when told comes after it.
   */
  observeWrite(operation: string, args: readonly unknown[], result: Promise<unknown>): void {
    if (!this.active) return;
    const announced = this.#inOrder;
    if (announced) this.#emit({ kind: 'accepted', operation, args });
    result.then(
      (value) => this.#emit({ kind: 'local', operation, args, result: value, ok: true, announced }),
      () => this.#emit({ kind: 'local', operation, args, result: undefined, ok: false, announced }),
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
