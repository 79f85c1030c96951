import pg from 'pg';

/**
 * Fills a store's PostgreSQL schema with the spread test/helpers/populate.ts gives a
 * SQLite file (thousands of rows per table, skewed as an orchestrator's data is), made
 * on the server with generate_series, then runs ANALYZE, so plans are the ones a real
 * store would get.
 */
export async function populatePostgres(url: string, schema = 'abathur'): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`
      INSERT INTO sessions (id, app_name, user_id, project_id, status, state)
      SELECT 's' || i, (ARRAY['planner', 'coder', 'reviewer'])[1 + i % 3], 'user' || (i % 200),
             CASE WHEN i % 3 = 0 THEN NULL ELSE 'project' || (i % 40) END,
             (ARRAY['created', 'active', 'active', 'paused', 'terminated', 'archived'])[1 + i % 6], jsonb_build_object('step', i)
      FROM generate_series(0, 1999) AS i;
      UPDATE sessions SET event_count = 1;
      INSERT INTO session_events (session_id, seq, event) SELECT id, 1, '{"type": "message"}' FROM sessions;
      INSERT INTO memory_entries (namespace, key, value, memory_type, version, is_deleted, created_by)
      SELECT (ARRAY['user:user' || (i % 200) || ':preferences', 'session:s' || (i % 2000), 'app:planner',
                    'project:project' || (i % 40), 'user:user' || (i % 200)])[1 + i % 5],
             'key' || i, jsonb_build_object('v', v), (ARRAY['semantic', 'episodic', 'procedural'])[1 + i % 3], v,
             v < 1 + i % 3 AND i % 5 = 0, 'agent' || (i % 50)
      FROM generate_series(0, 7999) AS i CROSS JOIN LATERAL generate_series(1, 1 + i % 3) AS v;
      INSERT INTO document_index (file_path, title, document_type, content_hash, sync_status, last_synced_at)
      SELECT '/docs/' || i || '.md', 'Doc ' || i,
             CASE WHEN i % 7 = 0 THEN NULL ELSE (ARRAY['design', 'specification', 'plan', 'report'])[1 + i % 4] END,
             'hash' || i, (ARRAY['synced', 'synced', 'synced', 'pending', 'stale', 'failed'])[1 + i % 6],
             CASE WHEN i % 2 = 0 THEN timestamptz '2026-01-01T00:00:00Z' END
      FROM generate_series(0, 1999) AS i;
      INSERT INTO tasks (id, prompt, agent_type, priority, status, input_data, parent_task_id, session_id, dependencies)
      SELECT 't' || i, 'task ' || i, (ARRAY['general', 'coder', 'reviewer'])[1 + i % 3], 1 + i % 10,
             (ARRAY['completed', 'completed', 'completed', 'failed', 'cancelled', 'running', 'pending'])[1 + i % 7], '{}',
             CASE WHEN i > 10 AND i % 4 = 0 THEN 't' || (i - 10) END, CASE WHEN i % 5 = 0 THEN NULL ELSE 's' || (i % 2000) END, '[]'
      FROM generate_series(0, 4999) AS i;
      INSERT INTO agents (id, name, specialization, task_id, state, model, session_id)
      SELECT 'a' || i, 'agent ' || i, 'coding', 't' || (i % 5000),
             (ARRAY['idle', 'working', 'waiting', 'terminated', 'terminated'])[1 + i % 5], 'model-x',
             CASE WHEN i % 4 = 0 THEN NULL ELSE 's' || (i % 2000) END
      FROM generate_series(0, 2999) AS i;
      INSERT INTO audit (agent_id, task_id, action_type, memory_operation_type, memory_namespace, memory_entry_id)
      SELECT CASE WHEN i % 2 = 0 THEN 'a' || (i % 3000) END, CASE WHEN i % 3 = 1 THEN 't' || (i % 5000) END,
             CASE WHEN i % 3 = 0 THEN 'memory_update' ELSE 'session_append_event' END,
             CASE WHEN i % 3 = 0 THEN (ARRAY['create', 'update', 'delete'])[1 + i % 3] END,
             CASE WHEN i % 3 = 0 THEN 'user:user' || (i % 200) END, CASE WHEN i % 3 = 0 THEN 1 + i % 8000 END
      FROM generate_series(0, 19999) AS i;
      INSERT INTO metrics (metric_name, metric_value, labels)
      SELECT (ARRAY['latency_ms', 'tokens', 'cost', 'queue_depth'])[1 + i % 4], i % 100, '{}' FROM generate_series(0, 9999) AS i;
      INSERT INTO checkpoints (task_id, iteration, state, session_id)
      SELECT 't' || (i % 1000), i / 1000, '{}', CASE WHEN i % 3 = 0 THEN NULL ELSE 's' || (i % 2000) END FROM generate_series(0, 4999) AS i;
      INSERT INTO state (task_id, key, value) SELECT 't' || (i % 1000), 'key' || (i / 1000), '1' FROM generate_series(0, 2999) AS i;
      ANALYZE;
    `);
  } finally {
    await client.end();
  }
}
