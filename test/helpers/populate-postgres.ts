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
      -- The adapters' tables, spread as test/helpers/populate-langgraph.ts spreads SQLite's:
      -- 300 threads of 20 checkpoints (a subgraph namespace on every tenth), a value per
      -- changed channel and a write per checkpoint; store items under user namespaces,
      -- some expiring, some with vectors; ADK sessions, scopes and indexed memory.
      INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, v, checkpoint_type, checkpoint,
                                  channel_versions, metadata_type, metadata, metadata_json)
      SELECT 'thread-' || t, ns, '1ef' || lpad(t::text, 5, '0') || '-' || lpad(step::text, 4, '0'),
             CASE WHEN step > 0 THEN '1ef' || lpad(t::text, 5, '0') || '-' || lpad((step - 1)::text, 4, '0') END, 4, 'json', '\x7b7d',
             jsonb_build_object('messages', step + 0.25, 'step', step + 0.25), 'json', '\x7b7d',
             json_build_object('source', CASE WHEN step = 0 THEN 'input' ELSE 'loop' END, 'step', step - 1)
      FROM generate_series(0, 299) AS t
      CROSS JOIN LATERAL unnest(CASE WHEN t % 10 = 0 THEN ARRAY['', 'tools:' || t] ELSE ARRAY[''] END) AS ns
      CROSS JOIN generate_series(0, 19) AS step;
      INSERT INTO lg_checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, value)
      SELECT c.thread_id, c.checkpoint_ns, ch, c.channel_versions -> ch, 'json', '\x7b7d'
      FROM lg_checkpoints AS c CROSS JOIN unnest(ARRAY['messages', 'step']) AS ch;
      INSERT INTO lg_checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value, task_path)
      SELECT thread_id, checkpoint_ns, checkpoint_id, 'task-' || right(checkpoint_id, 4), 0, 'messages', 'json', '\x7b7d',
             '~__pregel_pull, node' || (right(checkpoint_id, 1)::int % 3)
      FROM lg_checkpoints;
      INSERT INTO lg_store (namespace, key, value, ttl_minutes, expires_at)
      SELECT 'users' || chr(31) || 'user' || (i % 200) || chr(31) || CASE WHEN i % 2 = 0 THEN 'memories' ELSE 'prefs' END, 'key' || i,
             jsonb_build_object('text', 'memory ' || i, 'n', i), CASE WHEN i % 5 = 0 THEN 60 END,
             CASE WHEN i % 5 = 0 THEN timestamptz '2030-01-01T00:00:00Z' END
      FROM generate_series(0, 2999) AS i;
      INSERT INTO lg_store_vectors (namespace, key, field, embedding, norm)
      SELECT namespace, key, '$', '{0,0,0,1}', 1 FROM lg_store WHERE rowid % 3 = 0;
      INSERT INTO adk_sessions (app_name, user_id, id, session_id, last_update_time, version)
      SELECT app_name, user_id, 'adk-' || id, id, rowid * 1000.0, 1 FROM sessions WHERE rowid % 2 = 0;
      INSERT INTO adk_app_states (app_name, state) SELECT DISTINCT app_name, '{"model": "m"}'::jsonb FROM sessions;
      INSERT INTO adk_user_states (app_name, user_id, state) SELECT DISTINCT app_name, user_id, '{"lang": "en"}'::jsonb FROM sessions;
      INSERT INTO memory_entries (namespace, key, value, memory_type, created_by, updated_by)
      SELECT 'adk:planner:user' || (i % 200), 's' || (i % 500) || '/e' || i,
             jsonb_build_object('content', jsonb_build_object('parts', jsonb_build_array(jsonb_build_object('text', 'note ' || (i % 50)))),
                                'author', 'user', 'timestamp', '2026-01-01T00:00:00.000Z'), 'episodic', 'adk', 'adk'
      FROM generate_series(0, 4999) AS i;
      INSERT INTO adk_memory_fts (entry_id, document)
      SELECT id, to_tsvector('simple', 's' || md5(namespace)) || to_tsvector('simple', value -> 'content' -> 'parts' -> 0 ->> 'text')
      FROM memory_entries WHERE namespace LIKE 'adk:%';
      ANALYZE;
    `);
  } finally {
    await client.end();
  }
}
