// SQL shared by the PostgreSQL operations. Their column lists are the catalogue's table
// declarations (src/catalogue/tables.ts), so the same row decoders read both engines'
// rows: arrays in select-list order, timestamps as ISO strings and JSON as text
// (src/postgres/driver.ts).

/** The current time as the schema stores it: per row, not per transaction. */
import { replacementsOf, type HeldEvents } from '../../catalogue/session-events.js';

export const NOW = 'clock_timestamp()';

/**
 * A session's events as an array of their JSON texts, oldest first, for withEvents:
 * the newest `limit` of them (NULL: all), read along the event log's primary key, newest
 * first, and put back in order (a sort of the rows returned, at most `limit`).
 */
export const sessionEvents = (alias: string, limit: string): string =>
  `ARRAY(SELECT x.event FROM (SELECT e.seq, e.event::text AS event FROM session_events AS e ` +
  `WHERE e.session_id = ${alias}.id ORDER BY e.seq DESC LIMIT ${limit}) AS x ORDER BY x.seq)`;

/** How many of a session's events (alias `s`) ADK's adapter replaced where they stood: part of its version. */
export const REPLACEMENTS = `${replacementsOf('s')} AS replacements`;

/**
 * Whether the session (alias `s`, its replacements `v`) is still at the version the caller
 * holds events of (src/catalogue/session-events.ts, HeldEvents), from the parameters at
 * `first`: from, to, then the version (rowid, created_at, replacements); and has at least
 * `to` events.
 */
export const heldVersion = (first: number): string =>
  `s.rowid = $${first + 2}::bigint AND s.created_at = $${first + 3}::timestamptz ` +
  `AND v.replacements = $${first + 4}::int AND $${first + 1}::int <= s.event_count`;

/** Whether the event at `seq` is one the caller holds ({@link heldVersion}'s parameters). */
export const heldCondition = (seq: string, first: number): string =>
  `${seq} BETWEEN $${first}::int AND $${first + 1}::int AND ${heldVersion(first)}`;

/** The parameters of {@link heldCondition}: none held is the empty range 1 to 0. */
export function heldParams(held: HeldEvents | null): unknown[] {
  if (held === null) return [1, 0, 0, null, 0];
  const [[rowid, createdAt, replacements], from, to] = held;
  return [from, to, rowid, createdAt, replacements];
}
