-- Schema version 3: the tables of the LangGraph.js adapter (abathur-store/langgraph).
-- Prefixed lg_: the core schema already has a `checkpoints` table of its own.
--
-- AbathurSaver keeps a checkpoint as one row without its channel values, plus one row per
-- (channel, version) that changed (the layout of LangGraph's Postgres saver): a step that
-- changes one channel writes one value, not the whole state. Values, checkpoints and
-- metadata are the saver's serializer output, kept with their type tag in BLOB columns.

CREATE TABLE lg_checkpoints (
  thread_id            TEXT NOT NULL,
  checkpoint_ns        TEXT NOT NULL,
  checkpoint_id        TEXT NOT NULL,
  parent_checkpoint_id TEXT,
  -- The checkpoint format version: below 4, pending sends are read from the parent's writes.
  v                    INTEGER NOT NULL,
  checkpoint_type      TEXT NOT NULL,
  -- The checkpoint without channel_values.
  checkpoint           BLOB NOT NULL,
  -- channel -> version, as JSON, so the readers can find each channel's value row.
  channel_versions     TEXT NOT NULL CHECK (json_valid(channel_versions)),
  metadata_type        TEXT NOT NULL,
  metadata             BLOB NOT NULL,
  -- The metadata as JSON, for list()'s filter; NULL when JSON cannot hold it.
  metadata_json        TEXT CHECK (metadata_json IS NULL OR json_valid(metadata_json)),
  created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
) STRICT;

-- list() of one thread across its namespaces, newest first (LangGraph's runtime always
-- names the namespace; tools and the validation suite do not).
CREATE INDEX lg_checkpoints_thread_newest ON lg_checkpoints (thread_id, checkpoint_id, checkpoint_ns);
-- list() across every thread, newest first (checkpoint ids are time-ordered uuid6).
CREATE INDEX lg_checkpoints_newest ON lg_checkpoints (checkpoint_id, thread_id, checkpoint_ns);

CREATE TABLE lg_checkpoint_blobs (
  thread_id     TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL,
  channel       TEXT NOT NULL,
  -- ANY keeps the version exactly as bound: the number 3.25 and the string '3.25' are
  -- different versions, and a number is never rounded through text.
  version       ANY NOT NULL,
  -- 'empty' when the channel had no value at this version (the value is then NULL).
  type          TEXT NOT NULL,
  value         BLOB,
  PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
) STRICT;

-- Pending writes. No foreign key to lg_checkpoints: LangGraph sends a checkpoint's writes
-- before that checkpoint's put when durability is "async".
CREATE TABLE lg_checkpoint_writes (
  thread_id     TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL,
  task_id       TEXT NOT NULL,
  -- The write's position in its call, or the special channels' negative index.
  idx           INTEGER NOT NULL,
  channel       TEXT NOT NULL,
  type          TEXT NOT NULL,
  value         BLOB,
  -- Pending writes come back ordered by (task_path, task_id, idx).
  task_path     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
) STRICT;

-- AbathurStore: LangGraph's long-term memory store. A namespace ["users", "alice"] is kept
-- as its labels joined by char(31) (the unit separator): labels cannot hold control
-- characters, and char(31) sorts below every character they can hold, so a namespace's
-- descendants form one contiguous key range right after it, and ["a", "b"] never meets
-- ["a", "bc"] or ["a-b"]. Read it with replace(namespace, char(31), ':').
CREATE TABLE lg_store (
  namespace   TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL CHECK (json_valid(value) AND json_type(value) = 'object'),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  -- Time to live: NULL for items that never expire. Reads skip expired items; a sweeper
  -- deletes them.
  ttl_minutes REAL CHECK (ttl_minutes IS NULL OR ttl_minutes > 0),
  expires_at  TEXT,
  PRIMARY KEY (namespace, key)
) STRICT;

-- The sweeper's range: items that expire, soonest first.
CREATE INDEX lg_store_expiry ON lg_store (expires_at) WHERE expires_at IS NOT NULL;

-- Semantic search: one float32 vector per indexed field of an item, with its norm.
CREATE TABLE lg_store_vectors (
  namespace TEXT NOT NULL,
  key       TEXT NOT NULL,
  field     TEXT NOT NULL,
  embedding BLOB NOT NULL,
  norm      REAL NOT NULL,
  PRIMARY KEY (namespace, key, field)
) STRICT;
