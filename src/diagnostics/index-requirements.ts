/** One column of an index: its name and sort order. */
export interface IndexColumn {
  name: string;
  desc: boolean;
}

/** One of the seed's 33 index requirements: what must exist, whatever serves it. */
export interface IndexRequirement {
  name: string;
  table: string;
  columns: IndexColumn[];
  unique: boolean;
  /** The partial-index filter, as SQL; undefined for a full index. */
  where?: string;
}

const req = (name: string, table: string, columns: string, options: { unique?: boolean; where?: string } = {}): IndexRequirement => ({
  name,
  table,
  columns: columns.split(',').map((part) => {
    const [column, order] = part.trim().split(/\s+/);
    return { name: column!, desc: order?.toUpperCase() === 'DESC' };
  }),
  unique: options.unique ?? false,
  ...(options.where === undefined ? {} : { where: options.where }),
});

/** The seed's 33 index requirements, by the seed's names (DESIGN §3). */
export const INDEX_REQUIREMENTS: readonly IndexRequirement[] = [
  req('idx_sessions_pk', 'sessions', 'id', { unique: true }),
  req('idx_sessions_status_updated', 'sessions', 'status, last_update_time DESC', {
    where: "status IN ('active', 'paused')",
  }),
  req('idx_sessions_user_created', 'sessions', 'user_id, created_at DESC'),
  req('idx_sessions_project', 'sessions', 'project_id, created_at DESC', { where: 'project_id IS NOT NULL' }),

  req('idx_memory_entries_pk', 'memory_entries', 'id', { unique: true }),
  req('idx_memory_namespace_key_version', 'memory_entries', 'namespace, key, is_deleted, version DESC'),
  req('idx_memory_type_updated', 'memory_entries', 'memory_type, updated_at DESC', { where: 'is_deleted = 0' }),
  req('idx_memory_namespace_prefix', 'memory_entries', 'namespace, updated_at DESC', { where: 'is_deleted = 0' }),
  req('idx_memory_conflict_detection', 'memory_entries', 'namespace, key, is_deleted, version DESC'),
  req('idx_memory_episodic_ttl', 'memory_entries', 'memory_type, updated_at', {
    where: "memory_type = 'episodic' AND is_deleted = 0",
  }),
  req('idx_memory_created_by', 'memory_entries', 'created_by, created_at DESC'),

  req('idx_document_index_pk', 'document_index', 'id', { unique: true }),
  req('idx_document_file_path', 'document_index', 'file_path', { unique: true }),
  req('idx_document_type_created', 'document_index', 'document_type, created_at DESC', {
    where: 'document_type IS NOT NULL',
  }),
  req('idx_document_sync_status', 'document_index', 'sync_status, last_synced_at', {
    where: "sync_status IN ('pending', 'stale')",
  }),
  req('idx_document_content_hash', 'document_index', 'content_hash'),

  req('idx_tasks_status_priority', 'tasks', 'status, priority DESC, submitted_at ASC'),
  req('idx_tasks_submitted_at', 'tasks', 'submitted_at'),
  req('idx_tasks_parent', 'tasks', 'parent_task_id'),
  req('idx_tasks_running_timeout', 'tasks', 'status, last_updated_at', { where: "status = 'running'" }),
  req('idx_tasks_session', 'tasks', 'session_id, submitted_at DESC', { where: 'session_id IS NOT NULL' }),

  req('idx_agents_task', 'agents', 'task_id'),
  req('idx_agents_state', 'agents', 'state'),
  req('idx_agents_session', 'agents', 'session_id, spawned_at DESC', { where: 'session_id IS NOT NULL' }),

  req('idx_audit_task', 'audit', 'task_id, timestamp DESC'),
  req('idx_audit_agent', 'audit', 'agent_id, timestamp DESC'),
  req('idx_audit_timestamp', 'audit', 'timestamp DESC'),
  req('idx_audit_memory_operations', 'audit', 'memory_operation_type, timestamp DESC', {
    where: 'memory_operation_type IS NOT NULL',
  }),
  req('idx_audit_memory_namespace', 'audit', 'memory_namespace, timestamp DESC', {
    where: 'memory_namespace IS NOT NULL',
  }),
  req('idx_audit_memory_entry', 'audit', 'memory_entry_id, timestamp DESC', { where: 'memory_entry_id IS NOT NULL' }),

  req('idx_state_task_key', 'state', 'task_id, key'),
  req('idx_metrics_name_timestamp', 'metrics', 'metric_name, timestamp DESC'),
  req('idx_checkpoints_task', 'checkpoints', 'task_id, iteration DESC'),
];
