-- PostgreSQL schema version 5: a claimed task carries a lease (SQLite's migration 007).
-- A claim records its holder, a token naming this claim and no other, the lease's length
-- and when it ends; a task whose lease ended is claimable again, and a complete, fail or
-- heartbeat naming a token that is no longer the task's claim changes nothing (fencing).
-- Tasks running before this version have no lease and never expire.
--
-- Waiting claims and session watchers on other hosts learn of changes by LISTEN: the
-- triggers below notify, at commit, on the channels `<schema>.abathur_tasks` (a task
-- may have become claimable: created, back to pending, or a dependency completed; the
-- payload is the task's agent type) and `<schema>.abathur_events` (a session's log grew
-- or the session went; the payload is its id). NOTIFY folds identical payloads of one
-- transaction into one.

ALTER TABLE tasks ADD COLUMN claimed_by text;
ALTER TABLE tasks ADD COLUMN claim_token text CHECK (length(claim_token) > 0);
ALTER TABLE tasks ADD COLUMN lease_ms integer CHECK (lease_ms > 0);
ALTER TABLE tasks ADD COLUMN lease_expires_at timestamptz(3);

CREATE INDEX idx_tasks_lease_expiry ON tasks (lease_expires_at) WHERE status = 'running' AND lease_expires_at IS NOT NULL;

CREATE FUNCTION abathur_notify_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'pending' OR NEW.status = 'completed' THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.abathur_tasks', NEW.agent_type);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tasks_notify AFTER INSERT OR UPDATE OF status ON tasks
  FOR EACH ROW EXECUTE FUNCTION abathur_notify_tasks();

CREATE FUNCTION abathur_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.abathur_events', OLD.id);
  ELSE
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.abathur_events', NEW.session_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER session_events_notify AFTER INSERT ON session_events
  FOR EACH ROW EXECUTE FUNCTION abathur_notify_events();
CREATE TRIGGER sessions_delete_notify AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION abathur_notify_events();
