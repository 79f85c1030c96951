-- Schema version 4: the Google ADK adapter (abathur-store/adk).
--
-- An ADK session is a store session: a row of sessions (its session-scoped state) and its
-- events as rows of session_events, so the store's own tools (events, trimEvents, audit,
-- tasks and agents attached to a session) see ADK sessions too. ADK keys a session by
-- (app name, user id, session id) and orders sessions by the last event's timestamp;
-- adk_sessions adds that key and that order. app: and user: state live in their own tables,
-- merged into session.state on read. Memory entries of ADK sessions are memory_entries rows
-- (namespace adk:<app>:<user>), with a full-text index over their text.

CREATE TABLE adk_sessions (
  app_name         TEXT NOT NULL CHECK (length(app_name) > 0),
  user_id          TEXT NOT NULL CHECK (length(user_id) > 0),
  -- ADK's session id, unique per (app_name, user_id): the same id under another user is
  -- another session.
  id               TEXT NOT NULL CHECK (length(id) > 0),
  session_id       TEXT NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
  -- ADK's lastUpdateTime: epoch milliseconds of the last appended event (the creation time
  -- before any). It follows the events' own timestamps, so it may move backwards.
  last_update_time REAL NOT NULL,
  -- Bumped by every append: a session object read at an older version is stale.
  version          INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),
  PRIMARY KEY (app_name, user_id, id)
) STRICT, WITHOUT ROWID;

-- listSessions ordered by lastUpdateTime: one user's sessions, or all of an app's.
CREATE INDEX idx_adk_sessions_user_updated ON adk_sessions (app_name, user_id, last_update_time);
CREATE INDEX idx_adk_sessions_app_updated ON adk_sessions (app_name, last_update_time);

-- app: keys, shared by every session of an app (stored without their prefix).
CREATE TABLE adk_app_states (
  app_name   TEXT PRIMARY KEY NOT NULL CHECK (length(app_name) > 0),
  state      TEXT NOT NULL CHECK (json_valid(state) AND json_type(state) = 'object'),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT, WITHOUT ROWID;

-- user: keys, shared by every session of one user of one app (stored without their prefix).
CREATE TABLE adk_user_states (
  app_name   TEXT NOT NULL CHECK (length(app_name) > 0),
  user_id    TEXT NOT NULL CHECK (length(user_id) > 0),
  state      TEXT NOT NULL CHECK (json_valid(state) AND json_type(state) = 'object'),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (app_name, user_id)
) STRICT, WITHOUT ROWID;

-- Keyword search over ADK memory: one row per current memory entry, rowid = memory_entries.id.
-- Contentless (the text is kept once, in memory_entries.value) with deletes allowed.
-- scope holds one token, a hash of the entry's namespace: a search matches it together with
-- the words, so it reads only that user's postings. Ranked by BM25 over the text alone.
CREATE VIRTUAL TABLE adk_memory_fts USING fts5 (
  scope,
  text,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO adk_memory_fts (adk_memory_fts, rank) VALUES ('rank', 'bm25(0.0, 1.0)');
