-- Schema version 2: a session's events are rows of session_events, not a JSON array in
-- sessions.events.
--
-- Version 1 appended with json_insert(events, '$[#]', ...), which rewrites the whole
-- array: an append cost grew with the session's length (37 ms at 5,000 events of 1 KB),
-- and because one writer serialises every write, one long session slowed every other
-- session's writes. As rows, an append is one insert, one update of the session row and
-- one audit row, whatever the length; "newest n" is an index range.
--
-- Run by the migration runner in one transaction with `PRAGMA user_version = 2`: a crash
-- anywhere in it leaves the version-1 file as it was, and the next open runs it again.
--
-- A rowid table, not WITHOUT ROWID as first planned. A WITHOUT ROWID row lives in an index
-- b-tree cell, whose local payload is about 1,000 bytes on 4 KiB pages: every event of
-- 1 KB or more spilled into an overflow page of its own. Measured with 100k events of
-- 1 KB: a file of 455 MiB against 136 MiB, and the newest 20 read at 38 µs p50 and
-- 1.3-4.1 ms p99 (SQLite reads overflow pages past its cache, one pread each) against
-- 18 µs and 57-68 µs. A rowid table keeps events up to about 4 KB in its leaf pages; the
-- primary key (session_id, seq) is then an index of small entries beside it.

CREATE TABLE session_events (
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  -- 1, 2, 3, ... per session, assigned by the store from sessions.event_count.
  seq        INTEGER NOT NULL CHECK (seq > 0),
  -- The caller's id for the event, unique per session when given: a retried append
  -- (after OUTCOME_UNKNOWN, say) finds it and does not append twice.
  event_id   TEXT CHECK (event_id IS NULL OR length(event_id) > 0),
  event      TEXT NOT NULL CHECK (json_valid(event)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (session_id, seq)
) STRICT;

-- Beyond the 33 index requirements. An append with an eventId looks its id up in its
-- session before inserting (sessions.appendEvent / appendEvents); without this index that
-- lookup would read every event of the session, the very cost this version removes.
-- UNIQUE makes a second row with the same id impossible, whatever the code does; partial,
-- because most events carry no id and need no entry.
CREATE UNIQUE INDEX idx_session_events_event_id ON session_events (session_id, event_id)
  WHERE event_id IS NOT NULL;

-- The number of events ever appended: the next event's seq is event_count + 1. Trimming
-- old events (sessions.trimEvents) does not lower it.
ALTER TABLE sessions ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0 CHECK (event_count >= 0);

-- Every version-1 event, in order: array index i becomes seq i + 1. json_each gives
-- objects and arrays as JSON text, strings as their SQL text (quoted back here), numbers
-- as numbers (their text is the same value), and true, false and null as 1, 0 and NULL,
-- which are written back as JSON. Version 1 kept no time per event: each carries its
-- session's last_update_time, the last moment it is known to have existed.
INSERT INTO session_events (session_id, seq, event_id, event, created_at)
SELECT s.id,
       e.key + 1,
       NULL,
       CASE e.type
         WHEN 'true' THEN 'true'
         WHEN 'false' THEN 'false'
         WHEN 'null' THEN 'null'
         WHEN 'text' THEN json_quote(e.value)
         ELSE CAST(e.value AS TEXT)
       END,
       s.last_update_time
FROM sessions AS s, json_each(s.events) AS e;

UPDATE sessions SET event_count = json_array_length(events) WHERE events <> '[]';

ALTER TABLE sessions DROP COLUMN events;
