// The tables `migrate --from <sqlite> --to <postgres>` copies (src/copy/copy.ts): each
// column with how it travels from SQLite to PostgreSQL, and the key both engines read the
// rows in, so that the content check compares them row for row.

/** How a column is carried from SQLite to PostgreSQL. */
export type ColumnType =
  | 'text'
  | 'integer'
  | 'bigint'
  | 'float'
  | 'timestamp'
  /** JSON text into jsonb: compared by value. */
  | 'json'
  /** JSON text into json: kept and compared as written. */
  | 'jsonText'
  | 'boolean'
  | 'bytes'
  /** SQLite's ANY (a number or a string) into jsonb. */
  | 'scalar'
  /** Packed float32 into real[]. */
  | 'floats';

export interface CopyTable {
  name: string;
  /** [column, type]; `rowid` is SQLite's rowid, kept as the PostgreSQL table's rowid column. */
  columns: readonly (readonly [string, ColumnType])[];
  /** The key the rows are read in on both sides (a keyset: one pass of an index, one order). */
  key: readonly string[];
  /** Identity columns whose sequences must continue after the copied values. */
  identity: readonly string[];
}

const C = (spec: string): (readonly [string, ColumnType])[] =>
  spec.split(',').map((part) => {
    const [name, type] = part.trim().split(':') as [string, ColumnType | undefined];
    return [name, type ?? 'text'] as const;
  });

const K = (key: string): string[] => key.split(',').map((column) => column.trim());

/**
 * Every table of the store's schema, in an order where each row's parents are copied
 * before it: sessions before their events (and their trimmed events' ids), tasks in rowid order (a parent task is always
 * older than its subtasks), audit after the agents, tasks and memory it names, the ADK
 * sessions after the store sessions they are. (adk_memory_fts, an index rather than a
 * table of rows on SQLite, is rebuilt by the copier from the memory entries it names.)
 */
export const COPY_TABLES: readonly CopyTable[] = [
  {
    name: 'sessions',
    columns: C(
      'rowid:bigint, id, app_name, user_id, project_id, status, event_count:integer, state:json, metadata:json, created_at:timestamp, ' +
        'last_update_time:timestamp, terminated_at:timestamp, archived_at:timestamp',
    ),
    key: K('rowid'),
    identity: ['rowid'],
  },
  {
    name: 'session_events',
    columns: C('session_id, seq:integer, event_id, event:json, created_at:timestamp'),
    key: K('session_id, seq'),
    identity: [],
  },
  {
    name: 'session_trimmed_event_ids',
    columns: C('session_id, event_id, seq:integer'),
    key: K('session_id, event_id'),
    identity: [],
  },
  {
    name: 'memory_entries',
    columns: C(
      'id:bigint, namespace, key, value:json, memory_type, version:integer, is_deleted:boolean, metadata:json, created_by, updated_by, ' +
        'created_at:timestamp, updated_at:timestamp',
    ),
    key: K('id'),
    identity: ['id'],
  },
  {
    name: 'document_index',
    columns: C(
      'id:bigint, file_path, title, document_type, content_hash, chunk_count:integer, embedding_model, embedding_blob:bytes, metadata:json, ' +
        'last_synced_at:timestamp, sync_status, created_at:timestamp, updated_at:timestamp',
    ),
    key: K('id'),
    identity: ['id'],
  },
  {
    name: 'tasks',
    columns: C(
      'rowid:bigint, id, prompt, agent_type, priority:integer, status, input_data:json, result_data:json, error_message, retry_count:integer, ' +
        'max_retries:integer, max_execution_timeout_seconds:integer, submitted_at:timestamp, started_at:timestamp, completed_at:timestamp, ' +
        'last_updated_at:timestamp, created_by, parent_task_id, dependencies:json, session_id',
    ),
    key: K('rowid'),
    identity: ['rowid'],
  },
  {
    name: 'agents',
    columns: C(
      'rowid:bigint, id, name, specialization, task_id, state, model, spawned_at:timestamp, terminated_at:timestamp, resource_usage:json, session_id',
    ),
    key: K('rowid'),
    identity: ['rowid'],
  },
  {
    name: 'state',
    columns: C('id:bigint, task_id, key, value:json, created_at:timestamp, updated_at:timestamp'),
    key: K('id'),
    identity: ['id'],
  },
  {
    name: 'audit',
    columns: C(
      'id:bigint, timestamp:timestamp, agent_id, task_id, action_type, action_data:json, result, memory_operation_type, memory_namespace, ' +
        'memory_entry_id:bigint',
    ),
    key: K('id'),
    identity: ['id'],
  },
  {
    name: 'metrics',
    columns: C('id:bigint, timestamp:timestamp, metric_name, metric_value:float, labels:json'),
    key: K('id'),
    identity: ['id'],
  },
  {
    name: 'checkpoints',
    columns: C('task_id, iteration:integer, state:json, created_at:timestamp, session_id'),
    key: K('task_id, iteration'),
    identity: [],
  },
  // The LangGraph adapter's (SQLite migration 003, PostgreSQL 003).
  {
    name: 'lg_checkpoints',
    columns: C(
      'thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, v:bigint, checkpoint_type, checkpoint:bytes, channel_versions:json, ' +
        'metadata_type, metadata:bytes, metadata_json:jsonText, created_at:timestamp',
    ),
    key: K('thread_id, checkpoint_ns, checkpoint_id'),
    identity: [],
  },
  {
    name: 'lg_checkpoint_blobs',
    columns: C('thread_id, checkpoint_ns, channel, version:scalar, type, value:bytes'),
    key: K('thread_id, checkpoint_ns, channel, version'),
    identity: [],
  },
  {
    name: 'lg_checkpoint_writes',
    columns: C('thread_id, checkpoint_ns, checkpoint_id, task_id, idx:integer, channel, type, value:bytes, task_path'),
    key: K('thread_id, checkpoint_ns, checkpoint_id, task_id, idx'),
    identity: [],
  },
  {
    name: 'lg_store',
    columns: C('rowid:bigint, namespace, key, value:json, created_at:timestamp, updated_at:timestamp, ttl_minutes:float, expires_at:timestamp'),
    key: K('rowid'),
    identity: ['rowid'],
  },
  {
    name: 'lg_store_vectors',
    columns: C('namespace, key, field, embedding:floats, norm:float'),
    key: K('namespace, key, field'),
    identity: [],
  },
  // The ADK adapter's (SQLite migration 004, PostgreSQL 004).
  {
    name: 'adk_sessions',
    columns: C('app_name, user_id, id, session_id, last_update_time:float, version:integer, replacements:integer'),
    key: K('app_name, user_id, id'),
    identity: [],
  },
  {
    name: 'adk_app_states',
    columns: C('app_name, state:json, updated_at:timestamp'),
    key: K('app_name'),
    identity: [],
  },
  {
    name: 'adk_user_states',
    columns: C('app_name, user_id, state:json, updated_at:timestamp'),
    key: K('app_name, user_id'),
    identity: [],
  },
];
