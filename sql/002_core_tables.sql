-- Core tables: tasks, agents, state, audit, metrics, checkpoints.
-- Applied second: they reference sessions and memory_entries.

CREATE TABLE tasks (
  id                            TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
  prompt                        TEXT NOT NULL,
  agent_type                    TEXT NOT NULL DEFAULT 'general',
  priority                      INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
  status                        TEXT NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  input_data                    TEXT NOT NULL CHECK (json_valid(input_data)),
  result_data                   TEXT CHECK (json_valid(result_data)),
  error_message                 TEXT,
  retry_count                   INTEGER DEFAULT 0 CHECK (retry_count >= 0),
  max_retries                   INTEGER DEFAULT 3 CHECK (max_retries >= 0),
  max_execution_timeout_seconds INTEGER DEFAULT 3600 CHECK (max_execution_timeout_seconds > 0),
  submitted_at                  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  started_at                    TEXT,
  completed_at                  TEXT,
  last_updated_at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  created_by                    TEXT,
  parent_task_id                TEXT REFERENCES tasks (id),
  dependencies                  TEXT CHECK (json_valid(dependencies) AND json_type(dependencies) = 'array'),
  session_id                    TEXT REFERENCES sessions (id) ON DELETE SET NULL
) STRICT;

CREATE TABLE agents (
  id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
  name           TEXT NOT NULL,
  specialization TEXT NOT NULL,
  task_id        TEXT NOT NULL REFERENCES tasks (id),
  state          TEXT NOT NULL DEFAULT 'idle'
                 CHECK (state IN ('idle', 'working', 'waiting', 'terminated')),
  model          TEXT NOT NULL,
  spawned_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  terminated_at  TEXT,
  resource_usage TEXT CHECK (json_valid(resource_usage)),
  session_id     TEXT REFERENCES sessions (id) ON DELETE SET NULL
) STRICT;

-- Legacy key/value state per task, kept for compatibility.
CREATE TABLE state (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id    TEXT NOT NULL REFERENCES tasks (id),
  key        TEXT NOT NULL CHECK (length(key) > 0),
  value      TEXT NOT NULL CHECK (json_valid(value)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (task_id, key)
) STRICT;

-- task_id is nullable (the seed made it NOT NULL): operations without a task are audited too.
CREATE TABLE audit (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  agent_id              TEXT REFERENCES agents (id),
  task_id               TEXT REFERENCES tasks (id),
  action_type           TEXT NOT NULL CHECK (length(action_type) > 0),
  action_data           TEXT CHECK (json_valid(action_data)),
  result                TEXT,
  memory_operation_type TEXT
                        CHECK (memory_operation_type IN ('create', 'update', 'delete', 'consolidate', 'publish')),
  memory_namespace      TEXT,
  memory_entry_id       INTEGER REFERENCES memory_entries (id) ON DELETE SET NULL
) STRICT;

CREATE TABLE metrics (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  metric_name  TEXT NOT NULL CHECK (length(metric_name) > 0),
  metric_value REAL NOT NULL CHECK (metric_value >= 0),
  labels       TEXT CHECK (json_valid(labels))
) STRICT;

CREATE TABLE checkpoints (
  task_id    TEXT NOT NULL REFERENCES tasks (id),
  iteration  INTEGER NOT NULL CHECK (iteration >= 0),
  state      TEXT NOT NULL CHECK (json_valid(state)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
  PRIMARY KEY (task_id, iteration)
) STRICT;
