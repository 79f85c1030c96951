-- PostgreSQL schema version 6: a completed task notifies only the agent types it may have
-- unblocked. A completion makes a task claimable only through that task's dependencies
-- (a claim takes a pending task whose dependencies have all completed; nothing else about
-- a completed task gates a claim), so a completion notifies once per agent type of the
-- pending tasks that depend on it, and not at all when none does. Version 5 notified every
-- completion with the completed task's own agent type: a waiter of another type, on
-- another host, was not woken for a dependent of its type.
--
-- A dependent created while its dependency completes must not be missed: the dependent's
-- insert takes a shared transaction lock on each dependency's id, a completion an
-- exclusive one on its own id. Either the insert commits first (the completion then waits
-- for it, and its look sees the dependent), or the completion does (the insert waits, and
-- its own notification comes after the completion committed).

-- The pending tasks that wait on others, by dependency (tasks with none are not indexed).
CREATE INDEX idx_tasks_pending_dependencies ON tasks USING gin (dependencies jsonb_path_ops)
  WHERE status = 'pending' AND dependencies <> '[]'::jsonb;

-- The function's search_path is the one this migration runs under (the store's schema): a
-- trigger runs under its caller's, and a session of another tool may write the table by
-- its qualified name.
CREATE OR REPLACE FUNCTION abathur_notify_tasks() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.status = 'pending' THEN
    IF TG_OP = 'INSERT' AND NEW.dependencies IS NOT NULL AND NEW.dependencies <> '[]'::jsonb THEN
      PERFORM pg_advisory_xact_lock_shared(hashtext(TG_TABLE_SCHEMA || '.abathur_tasks'), hashtext(d))
        FROM jsonb_array_elements_text(NEW.dependencies) AS d;
    END IF;
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.abathur_tasks', NEW.agent_type);
  ELSIF NEW.status = 'completed' THEN
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_SCHEMA || '.abathur_tasks'), hashtext(NEW.id));
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.abathur_tasks', waiting.agent_type)
      FROM (SELECT DISTINCT agent_type FROM tasks
            WHERE status = 'pending' AND dependencies <> '[]'::jsonb AND dependencies @> jsonb_build_array(NEW.id)) AS waiting;
  END IF;
  RETURN NULL;
END
$$;
