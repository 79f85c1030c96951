import { defineOperation, pluck } from './operation.js';

/**
 * Each session's last seq (its event count: seqs run 1…eventCount, trimmed or not), or
 * null where the session does not exist. A watcher starts after its session's last seq,
 * and when another process may have written (a SQLite file says no more than that) the
 * watched sessions are looked up together, so that only those that moved read their log.
 */
export const sessionsHeads = defineOperation({
  name: 'sessions.heads',
  kind: 'read',
  statements: { head: pluck('SELECT event_count FROM sessions WHERE id = ?') },
  run({ st }, [ids]: readonly [ids: readonly string[]]): (number | null)[] {
    return ids.map((id) => (st.head.get(id) as number | undefined) ?? null);
  },
});

export const sessionWatchOperations = [sessionsHeads];
