-- PostgreSQL schema version 2: the caller's ids of trimmed events are kept (SQLite's
-- migration 005), so an append retried with the same eventId after trimEvents removed its
-- event still appends nothing and gets the first append's seq back. Only events that
-- carried an id get a row; the rows go with their session.

CREATE TABLE session_trimmed_event_ids (
  session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  event_id   text NOT NULL CHECK (length(event_id) > 0),
  -- The seq the event had: what a retried append returns.
  seq        integer NOT NULL CHECK (seq > 0),
  PRIMARY KEY (session_id, event_id)
);
