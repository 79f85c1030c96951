// SQL shared by the PostgreSQL operations. Their column lists are the catalogue's table
// declarations (src/catalogue/tables.ts), so the same row decoders read both engines'
// rows: arrays in select-list order, timestamps as ISO strings and JSON as text
// (src/postgres/driver.ts).

/** The current time as the schema stores it: per row, not per transaction. */
export const NOW = 'clock_timestamp()';

/**
 * A session's events as an array of their JSON texts, oldest first, for withEvents:
 * the newest `limit` of them (NULL: all), read along the event log's primary key, newest
 * first, and put back in order (a sort of the rows returned, at most `limit`).
 */
export const sessionEvents = (alias: string, limit: string): string =>
  `ARRAY(SELECT x.event FROM (SELECT e.seq, e.event::text AS event FROM session_events AS e ` +
  `WHERE e.session_id = ${alias}.id ORDER BY e.seq DESC LIMIT ${limit}) AS x ORDER BY x.seq)`;
