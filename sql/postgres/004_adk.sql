-- PostgreSQL schema version 4: the Google ADK adapter (abathur-store/adk), the SQLite
-- schema's migration 004 in PostgreSQL's terms.
--
-- An ADK session is a store session (a sessions row holding its session-scoped state, its
-- events as session_events rows) plus an adk_sessions row: ADK's key (app, user, session
-- id), its lastUpdateTime and a version bumped by every append. app: and user: state have
-- tables of their own, merged into session.state on read. Memory entries of ADK sessions
-- are memory_entries rows (namespace adk:<app>:<user>), with a full-text index over their
-- text. Differences from SQLite:
--   * States are jsonb objects; ids use the "C" collation, so lists without an order come
--     in the byte order SQLite gives them.
--   * The keyword index is a tsvector per current memory entry under a GIN index (FTS5 on
--     SQLite). Its first lexeme is the entry's scope, 's' || md5(namespace): a search
--     matches it together with the words, so it reads only that user's postings.

CREATE TABLE adk_sessions (
  app_name         text COLLATE "C" NOT NULL CHECK (length(app_name) > 0),
  user_id          text COLLATE "C" NOT NULL CHECK (length(user_id) > 0),
  -- ADK's session id, unique per (app_name, user_id): the same id under another user is
  -- another session.
  id               text COLLATE "C" NOT NULL CHECK (length(id) > 0),
  session_id       text NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
  -- ADK's lastUpdateTime: epoch milliseconds of the last appended event (the creation time
  -- before any). It follows the events' own timestamps, so it may move backwards.
  last_update_time double precision NOT NULL,
  -- Bumped by every append: a session object read at an older version is stale.
  version          integer NOT NULL DEFAULT 0 CHECK (version >= 0),
  -- Appends that replaced an event already there (its id kept or trimmed): a stale session
  -- object being brought up to date reads only the events after the last one it holds,
  -- unless this moved since it was read (SQLite: migration 006).
  replacements     integer NOT NULL DEFAULT 0 CHECK (replacements >= 0),
  PRIMARY KEY (app_name, user_id, id)
);

-- listSessions ordered by lastUpdateTime: one user's sessions, or all of an app's.
CREATE INDEX idx_adk_sessions_user_updated ON adk_sessions (app_name, user_id, last_update_time);
CREATE INDEX idx_adk_sessions_app_updated ON adk_sessions (app_name, last_update_time);

-- app: keys, shared by every session of an app (stored without their prefix).
CREATE TABLE adk_app_states (
  app_name   text COLLATE "C" PRIMARY KEY CHECK (length(app_name) > 0),
  state      jsonb NOT NULL CHECK (jsonb_typeof(state) = 'object'),
  updated_at timestamptz(3) NOT NULL DEFAULT clock_timestamp()
);

-- user: keys, shared by every session of one user of one app (stored without their prefix).
CREATE TABLE adk_user_states (
  app_name   text COLLATE "C" NOT NULL CHECK (length(app_name) > 0),
  user_id    text COLLATE "C" NOT NULL CHECK (length(user_id) > 0),
  state      jsonb NOT NULL CHECK (jsonb_typeof(state) = 'object'),
  updated_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (app_name, user_id)
);

-- Keyword search over ADK memory: one row per current memory entry.
CREATE TABLE adk_memory_fts (
  entry_id bigint PRIMARY KEY REFERENCES memory_entries (id) ON DELETE CASCADE,
  document tsvector NOT NULL
);
CREATE INDEX idx_adk_memory_fts ON adk_memory_fts USING gin (document);
