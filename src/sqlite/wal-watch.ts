import { watch, type FSWatcher } from 'node:fs';
import type { ExternalWatch, StoreChange } from '../api/change-feed.js';

/**
 * How long after a change to the WAL file the watch looks once more. A committing process
 * writes its frames to the WAL (which the file watch sees) and only then publishes them in
 * the shared-memory index (which no file watch sees: it is written through a mapping); a
 * look made in between would miss the commit. The second look comes after that gap.
 */
export const SETTLE_MS = 3;

/**
 * Other processes' commits to the database at `path`, seen as writes to its `-wal` file:
 * every commit in WAL mode appends to it, whichever process makes it, and the operating
 * system's file watch (inotify, FSEvents, kqueue) reports that without anyone polling the
 * database. This store's own commits are seen too; they cost a wake-up that finds nothing.
 * Watching starts only while a claim waits or a session is watched.
 */
export function walWatch(path: string): ExternalWatch {
  return (emit: (change: StoreChange) => void) => {
    let watcher: FSWatcher | undefined;
    let settle: NodeJS.Timeout | undefined;
    const changed = (): void => {
      emit({ kind: 'external' });
      settle ??= setTimeout(() => {
        settle = undefined;
        emit({ kind: 'external' });
      }, SETTLE_MS);
    };
    try {
      watcher = watch(`${path}-wal`, { persistent: false }, changed);
      // A watch that fails later (the file replaced under it) says so here; the waiters'
      // own timers (waitMs, lease ends) still bound every wait.
      watcher.on('error', () => {});
    } catch {
      // No WAL file to watch (another process removed it as it closed last): this store's
      // own writes still wake it, and its timers bound every wait.
    }
    return {
      // The watch is in place once watch() returned.
      ready: Promise.resolve(),
      stop: () => {
        if (settle !== undefined) clearTimeout(settle);
        watcher?.close();
      },
    };
  };
}
