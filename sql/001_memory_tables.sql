-- Memory tables: sessions, memory_entries, document_index.
-- Applied first: the core tables reference sessions.
-- Timestamps are ISO-8601 UTC with milliseconds; JSON columns are json_valid-checked.

CREATE TABLE sessions (
  id               TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
  app_name         TEXT NOT NULL CHECK (length(app_name) > 0),
  user_id          TEXT NOT NULL CHECK (length(user_id) > 0),
  project_id       TEXT,
  status           TEXT NOT NULL DEFAULT 'created'
                   CHECK (status IN ('created', 'active', 'paused', 'terminated', 'archived')),
  events           TEXT NOT NULL DEFAULT '[]'
                   CHECK (json_valid(events) AND json_type(events) = 'array'),
  state            TEXT NOT NULL DEFAULT '{}'
                   CHECK (json_valid(state) AND json_type(state) = 'object'),
  metadata         TEXT DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_update_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  terminated_at    TEXT,
  archived_at      TEXT
) STRICT;

CREATE TABLE memory_entries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace   TEXT NOT NULL CHECK (length(namespace) > 0),
  key         TEXT NOT NULL CHECK (length(key) > 0),
  value       TEXT NOT NULL CHECK (json_valid(value)),
  memory_type TEXT NOT NULL CHECK (memory_type IN ('semantic', 'episodic', 'procedural')),
  version     INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
  is_deleted  INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
  metadata    TEXT DEFAULT '{}' CHECK (json_valid(metadata)),
  created_by  TEXT,
  updated_by  TEXT,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (namespace, key, version)
) STRICT;

CREATE TABLE document_index (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  file_path       TEXT NOT NULL UNIQUE CHECK (length(file_path) > 0),
  title           TEXT NOT NULL,
  document_type   TEXT CHECK (document_type IN ('design', 'specification', 'plan', 'report')),
  content_hash    TEXT NOT NULL CHECK (length(content_hash) > 0),
  chunk_count     INTEGER DEFAULT 1 CHECK (chunk_count >= 0),
  embedding_model TEXT,
  embedding_blob  BLOB,
  metadata        TEXT DEFAULT '{}' CHECK (json_valid(metadata)),
  last_synced_at  TEXT,
  sync_status     TEXT DEFAULT 'pending'
                  CHECK (sync_status IN ('pending', 'synced', 'failed', 'stale')),
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
