import type { Pool, PoolClient } from 'pg';

/**
 * The writes whose notifications the change feed reports itself, as it hands them to the
 * waiters (src/services/wakeups.ts reads these: a task created or back to pending, a
 * dependency completed, a session's log grown or the session gone). And `tasks.claimNext`,
 * whose only notifications are for the ended leases it hands back: every claim of this
 * store that parks has read, in its last look, when the next lease ends, and looks again
 * then. Any other write that notifies (the ADK adapter's events, a session it deletes) is
 * let through LISTEN.
 */
export const REPORTED_WRITES: ReadonlySet<string> = new Set([
  'tasks.create',
  'tasks.claimNext',
  'tasks.complete',
  'tasks.fail',
  'tasks.cancel',
  'tasks.heartbeat',
  'sessions.appendEvent',
  'sessions.appendEvents',
  'sessions.delete',
]);

/** One live connection of a store's pool, and its writes whose notifications the local feed does not report. */
export interface OwnConnection {
  /** Writes run on it (or settled, with their barrier not yet answered) that the change feed did not report. */
  unreported: number;
}

/**
 * The backend pids of one pool's live connections, so that the store's LISTEN can tell its
 * own commits' notifications from other processes'. A store hears its own writes twice:
 * once from its change feed, as each settles, and once more through LISTEN. The listener
 * drops a notification whose sender is {@link OwnConnections.reported}: a connection of
 * this pool, none of whose writes the feed left unreported may still be in flight.
 *
 * A write the feed does not report (an operation the waiters do not read, or one accepted
 * while nobody listened) holds its
 * connection open from before its BEGIN until a {@link OwnConnections.barrier} sent after
 * it settled is answered: the server delivers a commit's notifications to a listening
 * connection before it answers that connection's next query, so by then they have come,
 * and were let through.
 *
 * A pid is forgotten when its connection ends: the server may give it to another
 * process's backend later, whose notifications must never be dropped.
 */
export class OwnConnections {
  /** The pool's one tracker, made and set to follow it when the pool is made. */
  static of(pool: Pool): OwnConnections {
    let own = trackers.get(pool);
    if (own === undefined) trackers.set(pool, (own = new OwnConnections().follow(pool)));
    return own;
  }

  readonly #byPid = new Map<number, OwnConnection>();
  /** Set by the listener while it has a connection: a query on it, answered after every notification sent before it. */
  barrier: (() => Promise<unknown>) | undefined;

  /** Follows `pool`'s connections from now on: each is recorded when it connects and forgotten when it ends. */
  follow(pool: Pool): this {
    pool.on('connect', (client) => this.add(client));
    return this;
  }

  /** Records a connected client (its `processID` is known once connected). */
  add(client: { processID?: number | null; once(event: 'end', listener: () => void): unknown }): void {
    const pid = client.processID;
    if (typeof pid !== 'number') return;
    const connection: OwnConnection = { unreported: 0 };
    this.#byPid.set(pid, connection);
    client.once('end', () => {
      if (this.#byPid.get(pid) === connection) this.#byPid.delete(pid);
    });
  }

  /** True when `pid` is a live connection of this pool whose every write the change feed reported: its notifications are heard already. */
  reported(pid: number): boolean {
    return this.#byPid.get(pid)?.unreported === 0;
  }

  /** How many connections are followed (for tests). */
  get size(): number {
    return this.#byPid.size;
  }

  /**
   * A write the change feed will not report is about to run on `client`: its pid's
   * notifications are let through until {@link OwnConnections.settled} has seen a
   * barrier answered. Returns what to hand to `settled`.
   */
  unreported(client: PoolClient): OwnConnection | undefined {
    const connection = this.#byPid.get((client as { processID?: number }).processID ?? -1);
    if (connection !== undefined) connection.unreported++;
    return connection;
  }

  /** The unreported write that ran on `connections` settled: once a barrier is answered (or failed), they are filtered again. */
  settled(connections: readonly OwnConnection[]): void {
    if (connections.length === 0) return;
    const release = (): void => {
      for (const connection of connections) connection.unreported--;
    };
    const barrier = this.barrier;
    if (barrier === undefined) release();
    else void barrier().then(release, release);
  }
}

const trackers = new WeakMap<Pool, OwnConnections>();
