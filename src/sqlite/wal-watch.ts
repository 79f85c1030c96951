import { watch, type FSWatcher } from 'node:fs';
import type { ExternalWatch, StoreChange } from '../api/change-feed.js';

/**
 * When, after the last change to the WAL file, the watch looks again. A committing process
 * writes its frames to the WAL (which the file watch sees) and only then publishes them in
 * the shared-memory index (which no file watch sees: it is written through a mapping); a
 * look made in between misses the commit. Usually that gap is microseconds, but with
 * `synchronous = FULL` the WAL is synced first, which can take milliseconds on a slow or
 * busy disk: later looks catch such a commit without another change to the file. Each look
 * is one ask of the writer, so a quiet store pays three asks after its last change.
 */
export const LOOKS_AFTER_MS: readonly number[] = [3, 30, 300];

/**
 * Whether a connection other than this store's writer has committed since the last ask:
 * the writer's `PRAGMA data_version` (see Writer.foreignCommits). A failure to tell (the
 * store closing, the writer restarting) counts as yes: a spurious wake-up only costs a look.
 */
export type ForeignCommits = () => Promise<boolean>;

/**
 * Other processes' commits to the database at `path`, seen as writes to its `-wal` file:
 * every commit in WAL mode appends to it, whichever process makes it, and the operating
 * system's file watch (inotify, FSEvents, kqueue) reports that without anyone polling the
 * database. The watch sees this store's own commits and checkpoints too, so each change
 * is first put to `foreignCommits`, one ask at a time, and only a yes wakes anyone: this
 * store's own writes (which wake their waiters directly) cost an ask, not a claim attempt
 * per parked agent type and a read of every watched session. Watching starts only while a
 * claim waits or a session is watched.
 */
export function walWatch(path: string, foreignCommits: ForeignCommits): ExternalWatch {
  return (emit: (change: StoreChange) => void) => {
    let watcher: FSWatcher | undefined;
    let stopped = false;
    let asking = false;
    let askAgain = false;
    // A change seen while an ask is out is asked about once more after it: an ask always
    // follows the last change, and changes that come together cost one ask.
    const ask = async (): Promise<void> => {
      if (asking) {
        askAgain = true;
        return;
      }
      asking = true;
      try {
        do {
          askAgain = false;
          const foreign = await foreignCommits().catch(() => true);
          if (stopped) return;
          if (foreign) emit({ kind: 'external' });
        } while (askAgain);
      } finally {
        asking = false;
      }
    };
    // The later looks are timed from the last change, however many came: made at the
    // first change, then re-armed (refresh) by each one after it.
    let looks: NodeJS.Timeout[] | undefined;
    const changed = (): void => {
      void ask();
      if (looks === undefined) looks = LOOKS_AFTER_MS.map((ms) => setTimeout(() => void ask(), ms).unref());
      else for (const timer of looks) timer.refresh();
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
    // The first ask only takes the writer's measure (its answer compares with whatever
    // came before the watch, which the waiters' first looks see for themselves): the
    // waiters look once it is done, so a commit after their look moves it, and one before
    // is in what they read.
    const ready = foreignCommits().then(
      () => {},
      () => {},
    );
    return {
      ready,
      stop: () => {
        stopped = true;
        for (const timer of looks ?? []) clearTimeout(timer);
        watcher?.close();
      },
    };
  };
}
