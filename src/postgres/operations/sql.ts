// Column lists for PostgreSQL, in the order of the catalogue's SQLite column lists
// (src/catalogue/rows.ts), so the same row decoders read both engines' rows: arrays in
// select-list order, timestamps as ISO strings and JSON as text (src/postgres/driver.ts).

/** The current time as the schema stores it: per row, not per transaction. */
export const NOW = 'clock_timestamp()';

/** A session row as sessionInfoFromRow reads it, its columns qualified by `alias`. */
export const sessionColumns = (alias: string): string =>
  ['id', 'app_name', 'user_id', 'project_id', 'status', 'event_count', 'state', 'metadata', 'created_at', 'last_update_time', 'terminated_at', 'archived_at']
    .map((column) => `${alias}.${column}`)
    .join(', ');

/**
 * A session's events as an array of their JSON texts, oldest first, for sessionFromRow:
 * the newest `limit` of them (NULL: all), read along the event log's primary key, newest
 * first, and put back in order (a sort of the rows returned, at most `limit`).
 */
export const sessionEvents = (alias: string, limit: string): string =>
  `ARRAY(SELECT x.event FROM (SELECT e.seq, e.event::text AS event FROM session_events AS e ` +
  `WHERE e.session_id = ${alias}.id ORDER BY e.seq DESC LIMIT ${limit}) AS x ORDER BY x.seq)`;

export const MEMORY_COLUMNS =
  'id, namespace, key, value, memory_type, version, is_deleted::int, metadata, created_by, updated_by, created_at, updated_at';

export const DOCUMENT_COLUMNS =
  'id, file_path, title, document_type, content_hash, chunk_count, embedding_model, embedding_blob, metadata, ' +
  'last_synced_at, sync_status, created_at, updated_at';

export const TASK_COLUMNS =
  'id, prompt, agent_type, priority, status, input_data, result_data, error_message, retry_count, max_retries, ' +
  'max_execution_timeout_seconds, submitted_at, started_at, completed_at, last_updated_at, created_by, ' +
  'parent_task_id, dependencies, session_id';

export const AGENT_COLUMNS =
  'id, name, specialization, task_id, state, model, spawned_at, terminated_at, resource_usage, session_id';

export const CHECKPOINT_COLUMNS = 'task_id, iteration, state, created_at, session_id';

export const STATE_COLUMNS = 'id, task_id, key, value, created_at, updated_at';

export const AUDIT_COLUMNS =
  'id, timestamp, agent_id, task_id, action_type, action_data, result, memory_operation_type, memory_namespace, ' +
  'memory_entry_id';

export const METRIC_COLUMNS = 'id, timestamp, metric_name, metric_value, labels';

/** A column list with each column qualified by a table alias. */
export const qualified = (alias: string, columns: string): string =>
  columns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
