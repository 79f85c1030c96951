-- Schema version 6: each ADK session counts the events replaced in it.
--
-- An event appended again with an id the session already has replaces the stored event
-- where it stands (ADK's rule). A stale session object being brought up to date after its
-- append (AbathurSessionService, onStale 'reload') reads only the events after the last one
-- it holds, which is all that changed unless another caller replaced an event it already
-- holds. This count tells it when that happened (it then reads its events again from its
-- first one) without reading the log to find out.

ALTER TABLE adk_sessions ADD COLUMN replacements INTEGER NOT NULL DEFAULT 0 CHECK (replacements >= 0);
