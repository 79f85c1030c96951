-- Schema version 5: the caller's ids of trimmed events are kept, so an append retried with
-- the same eventId after sessions.trimEvents removed its event still appends nothing.
--
-- Until version 4 the only record of an eventId was its event's row: trimEvents deleted
-- both, and a retry of that append (after OUTCOME_UNKNOWN, say) found no id and appended
-- the event a second time under a new seq. Keeping the id with its seq is what lets the
-- retry get the first append's seq back, as it does while the event is still there. The
-- rows are small (an id and a number, no event) and only events that carried an id get
-- one; they go with their session (ON DELETE CASCADE).
--
-- Ids trimmed before this version are gone with their events and cannot be recovered:
-- the table starts empty.

CREATE TABLE session_trimmed_event_ids (
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  event_id   TEXT NOT NULL CHECK (length(event_id) > 0),
  -- The seq the event had: what a retried append returns.
  seq        INTEGER NOT NULL CHECK (seq > 0),
  -- An append looks an id up by (session_id, event_id), the key; a session's delete
  -- cascades along its first column.
  PRIMARY KEY (session_id, event_id)
) STRICT, WITHOUT ROWID;
