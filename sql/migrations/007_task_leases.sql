-- Schema version 7: a claimed task carries a lease.
--
-- Until version 6 a task claimed by an agent whose process then died stayed `running`
-- for ever: nothing said who held it or for how long. A claim now records its holder
-- (the caller's agent id, when it gave one), a token naming this claim and no other, the
-- lease's length and when it ends. A task whose lease ended is claimable again (or fails,
-- with its retries spent), and a complete, fail or heartbeat that names a token which is
-- no longer the task's claim changes nothing (fencing).
--
-- Tasks running before this version have no lease: they never expire, as before.

ALTER TABLE tasks ADD COLUMN claimed_by TEXT;
ALTER TABLE tasks ADD COLUMN claim_token TEXT CHECK (length(claim_token) > 0);
-- The length a heartbeat extends the lease by when it names none: the claim's own.
ALTER TABLE tasks ADD COLUMN lease_ms INTEGER CHECK (lease_ms > 0);
ALTER TABLE tasks ADD COLUMN lease_expires_at TEXT;

-- Claims look for running tasks whose lease has ended, earliest first, and a waiting
-- claim asks for the next lease to end: both are a range of this index's first rows.
CREATE INDEX idx_tasks_lease_expiry ON tasks (lease_expires_at) WHERE status = 'running' AND lease_expires_at IS NOT NULL;
