import type { Client, Notification } from 'pg';
import type { ExternalWatch, StoreChange } from '../api/change-feed.js';
import type { ResolvedPostgresOptions } from '../api/options.js';
import { loadPg } from './driver.js';
import type { OwnConnections } from './own-connections.js';
import { quoteIdentifier } from './schema.js';

/** How long a lost LISTEN connection waits before it connects again. */
const RECONNECT_MS = 500;

/**
 * The channels the triggers of sql/postgres/005_task_leases.sql notify on, for one
 * store's schema: several stores (schemas) on one database do not wake each other.
 */
export const channels = (schema: string): { tasks: string; events: string } => ({
  tasks: `${schema}.abathur_tasks`,
  events: `${schema}.abathur_events`,
});

/**
 * Commits on any host, heard with LISTEN on a connection of its own (not the pool's: it
 * stays open while anyone waits, and a pooled one would be taken from the calls). The
 * server delivers a notification after its transaction commits. `ready` resolves once
 * the first LISTEN is answered (or failed: the waiters' own timers still bound every
 * wait). A lost connection is made again, and that reconnection is reported as a change:
 * notifications sent while it was down are gone, so waiters look once more.
 *
 * The store's own writes are heard here too. Those its change feed reported already, sent
 * by a connection of its pool (`own`), are dropped: each would cost a waiter one more look.
 * Every other process's (and every other store's, which has a pool of its own) pass.
 */
export function pgListener(options: ResolvedPostgresOptions, own?: OwnConnections): ExternalWatch {
  const names = channels(options.schema);
  return (emit: (change: StoreChange) => void) => {
    let stopped = false;
    let client: Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    // Set once `ready` has settled: the waiters have looked, so a LISTEN made after that
    // (a reconnect, or the first success after a failed first connect) missed what came between.
    let looked = false;
    let readied!: () => void;
    const ready = new Promise<void>((resolve) => (readied = resolve));
    const onNotification = (message: Notification): void => {
      if (own?.reported(message.processId) === true) return;
      if (message.channel === names.tasks) emit({ kind: 'external', tasks: { agentType: message.payload ?? '' } });
      else if (message.channel === names.events) emit({ kind: 'external', sessionId: message.payload ?? '' });
    };
    const connect = async (): Promise<void> => {
      const pg = await loadPg();
      const next = new pg.Client({ connectionString: options.url, application_name: 'abathur-store listen', keepAlive: true });
      next.on('error', () => lost(next));
      next.on('end', () => lost(next));
      next.on('notification', onNotification);
      client = next;
      if (own !== undefined) own.barrier = barrierOn(next);
      try {
        await next.connect();
        await next.query(`LISTEN ${quoteIdentifier(names.tasks)}; LISTEN ${quoteIdentifier(names.events)}`);
      } catch {
        looked = true;
        readied();
        lost(next);
        return;
      }
      readied();
      if (stopped) {
        void next.end().catch(() => {});
        return;
      }
      if (looked) emit({ kind: 'external' });
      looked = true;
    };
    const lost = (which: Client): void => {
      if (client !== which) return;
      client = undefined;
      if (own !== undefined) own.barrier = undefined;
      void which.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void connect(), RECONNECT_MS);
    };
    void connect().catch(() => readied());
    return {
      ready,
      stop: () => {
        stopped = true;
        readied();
        if (retry !== undefined) clearTimeout(retry);
        const open = client;
        client = undefined;
        if (own !== undefined) own.barrier = undefined;
        void open?.end().catch(() => {});
      },
    };
  };
}

/**
 * A query on the LISTEN connection, answered only after every notification the server had
 * for it when the query was asked for. Askers join the one not sent yet, so at most one is
 * in flight and one waits, however many writes ask.
 */
function barrierOn(client: Client): () => Promise<unknown> {
  let waiting: Promise<unknown> | undefined;
  let previous: Promise<unknown> = Promise.resolve();
  return () => {
    if (waiting !== undefined) return waiting;
    const next: Promise<unknown> = previous.then(() => {
      if (waiting === next) waiting = undefined;
      return client.query('SELECT 1');
    });
    waiting = next;
    previous = next.catch(() => {});
    return next;
  };
}
