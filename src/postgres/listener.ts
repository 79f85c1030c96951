import type { Client, Notification } from 'pg';
import type { ExternalWatch, StoreChange } from '../api/change-feed.js';
import type { ResolvedPostgresOptions } from '../api/options.js';
import { loadPg } from './driver.js';
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
 */
export function pgListener(options: ResolvedPostgresOptions): ExternalWatch {
  const names = channels(options.schema);
  return (emit: (change: StoreChange) => void) => {
    let stopped = false;
    let client: Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let connections = 0;
    let readied!: () => void;
    const ready = new Promise<void>((resolve) => (readied = resolve));
    const onNotification = (message: Notification): void => {
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
      try {
        await next.connect();
        await next.query(`LISTEN ${quoteIdentifier(names.tasks)}; LISTEN ${quoteIdentifier(names.events)}`);
      } catch {
        readied();
        lost(next);
        return;
      }
      readied();
      if (stopped) {
        void next.end().catch(() => {});
        return;
      }
      if (connections++ > 0) emit({ kind: 'external' });
    };
    const lost = (which: Client): void => {
      if (client !== which) return;
      client = undefined;
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
        void open?.end().catch(() => {});
      },
    };
  };
}
