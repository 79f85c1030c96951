-- The seed's 33 index requirements, by the seed's names.
-- Six are not created because an index SQLite already keeps serves them column for column;
-- each would cost every write and serve no read (`check` reports what serves them):
--   idx_sessions_pk                 -> sessions primary key (sqlite_autoindex_sessions_1)
--   idx_memory_entries_pk           -> memory_entries rowid (INTEGER PRIMARY KEY)
--   idx_document_index_pk           -> document_index rowid (INTEGER PRIMARY KEY)
--   idx_document_file_path          -> UNIQUE(file_path) (sqlite_autoindex_document_index_1)
--   idx_memory_conflict_detection   -> idx_memory_namespace_key_version
--   idx_state_task_key              -> UNIQUE(task_id, key) (sqlite_autoindex_state_1)

-- sessions
CREATE INDEX idx_sessions_status_updated ON sessions (status, last_update_time DESC)
  WHERE status IN ('active', 'paused');
CREATE INDEX idx_sessions_user_created ON sessions (user_id, created_at DESC);
CREATE INDEX idx_sessions_project ON sessions (project_id, created_at DESC)
  WHERE project_id IS NOT NULL;

-- memory_entries
CREATE INDEX idx_memory_namespace_key_version ON memory_entries (namespace, key, is_deleted, version DESC);
CREATE INDEX idx_memory_type_updated ON memory_entries (memory_type, updated_at DESC)
  WHERE is_deleted = 0;
CREATE INDEX idx_memory_namespace_prefix ON memory_entries (namespace, updated_at DESC)
  WHERE is_deleted = 0;
CREATE INDEX idx_memory_episodic_ttl ON memory_entries (memory_type, updated_at)
  WHERE memory_type = 'episodic' AND is_deleted = 0;
CREATE INDEX idx_memory_created_by ON memory_entries (created_by, created_at DESC);

-- document_index
CREATE INDEX idx_document_type_created ON document_index (document_type, created_at DESC)
  WHERE document_type IS NOT NULL;
CREATE INDEX idx_document_sync_status ON document_index (sync_status, last_synced_at)
  WHERE sync_status IN ('pending', 'stale');
CREATE INDEX idx_document_content_hash ON document_index (content_hash);

-- tasks
CREATE INDEX idx_tasks_status_priority ON tasks (status, priority DESC, submitted_at ASC);
CREATE INDEX idx_tasks_submitted_at ON tasks (submitted_at);
CREATE INDEX idx_tasks_parent ON tasks (parent_task_id);
CREATE INDEX idx_tasks_running_timeout ON tasks (status, last_updated_at)
  WHERE status = 'running';
CREATE INDEX idx_tasks_session ON tasks (session_id, submitted_at DESC)
  WHERE session_id IS NOT NULL;

-- agents
CREATE INDEX idx_agents_task ON agents (task_id);
CREATE INDEX idx_agents_state ON agents (state);
CREATE INDEX idx_agents_session ON agents (session_id, spawned_at DESC)
  WHERE session_id IS NOT NULL;

-- audit
CREATE INDEX idx_audit_task ON audit (task_id, timestamp DESC);
CREATE INDEX idx_audit_agent ON audit (agent_id, timestamp DESC);
CREATE INDEX idx_audit_timestamp ON audit (timestamp DESC);
CREATE INDEX idx_audit_memory_operations ON audit (memory_operation_type, timestamp DESC)
  WHERE memory_operation_type IS NOT NULL;
CREATE INDEX idx_audit_memory_namespace ON audit (memory_namespace, timestamp DESC)
  WHERE memory_namespace IS NOT NULL;
CREATE INDEX idx_audit_memory_entry ON audit (memory_entry_id, timestamp DESC)
  WHERE memory_entry_id IS NOT NULL;

-- metrics, checkpoints
CREATE INDEX idx_metrics_name_timestamp ON metrics (metric_name, timestamp DESC);
CREATE INDEX idx_checkpoints_task ON checkpoints (task_id, iteration DESC);

-- Beyond the 33: deleting a session sets checkpoints.session_id to NULL (ON DELETE SET
-- NULL), and SQLite finds those rows through an index on the child key, or scans the
-- whole checkpoints table for every session deleted.
CREATE INDEX idx_checkpoints_session ON checkpoints (session_id) WHERE session_id IS NOT NULL;
