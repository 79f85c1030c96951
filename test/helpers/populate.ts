import type { Connection } from '../../src/sqlite/connection.js';

/**
 * Fills a database with a realistic spread of rows (thousands per table, skewed the way
 * an orchestrator's data is: most tasks finished, most memory live, a few big users) and
 * runs ANALYZE, so query plans are the ones a real store would get.
 */
export function populate(db: Connection, scale = 1): void {
  const n = (count: number): number => Math.max(1, Math.round(count * scale));
  const pick = <T>(items: readonly T[], i: number): T => items[i % items.length]!;
  db.transaction(() => {
    const session = db.prepare(
      'INSERT INTO sessions (id, app_name, user_id, project_id, status, event_count, state) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const event = db.prepare('INSERT INTO session_events (session_id, seq, event_id, event) VALUES (?, ?, ?, ?)');
    const statuses = ['created', 'active', 'active', 'paused', 'terminated', 'archived'];
    for (let i = 0; i < n(2000); i++) {
      session.run(
        `s${i}`,
        pick(['planner', 'coder', 'reviewer'], i),
        `user${i % 200}`,
        i % 3 === 0 ? null : `project${i % 40}`,
        pick(statuses, i),
        i % 10,
        JSON.stringify({ step: i }),
      );
      // Sessions of 0 to 9 events; a few events carry the caller's id.
      for (let seq = 1; seq <= i % 10; seq++) {
        event.run(`s${i}`, seq, seq % 3 === 0 ? `e${i}-${seq}` : null, JSON.stringify({ type: 'message', text: `hello ${i}/${seq}` }));
      }
    }
    const memory = db.prepare(
      'INSERT INTO memory_entries (namespace, key, value, memory_type, version, is_deleted, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < n(8000); i++) {
      const ns = pick(
        [`user:user${i % 200}:preferences`, `session:s${i % 2000}`, `app:planner`, `project:project${i % 40}`, `user:user${i % 200}`],
        i,
      );
      const versions = 1 + (i % 3);
      for (let v = 1; v <= versions; v++) {
        memory.run(ns, `key${i}`, JSON.stringify({ v }), pick(['semantic', 'episodic', 'procedural'], i), v, v < versions && i % 5 === 0 ? 1 : 0, `agent${i % 50}`);
      }
    }
    const doc = db.prepare(
      'INSERT INTO document_index (file_path, title, document_type, content_hash, sync_status, last_synced_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < n(2000); i++) {
      doc.run(`/docs/${i}.md`, `Doc ${i}`, i % 7 === 0 ? null : pick(['design', 'specification', 'plan', 'report'], i), `hash${i}`, pick(['synced', 'synced', 'synced', 'pending', 'stale', 'failed'], i), i % 2 === 0 ? '2026-01-01T00:00:00.000Z' : null);
    }
    const task = db.prepare(
      'INSERT INTO tasks (id, prompt, agent_type, priority, status, input_data, parent_task_id, session_id, dependencies) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < n(5000); i++) {
      task.run(`t${i}`, `task ${i}`, pick(['general', 'coder', 'reviewer'], i), 1 + (i % 10), pick(['completed', 'completed', 'completed', 'failed', 'cancelled', 'running', 'pending'], i), '{}', i > 10 && i % 4 === 0 ? `t${i - 10}` : null, i % 5 === 0 ? null : `s${i % n(2000)}`, '[]');
    }
    const agent = db.prepare('INSERT INTO agents (id, name, specialization, task_id, state, model, session_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < n(3000); i++) {
      agent.run(`a${i}`, `agent ${i}`, 'coding', `t${i % n(5000)}`, pick(['idle', 'working', 'waiting', 'terminated', 'terminated'], i), 'model-x', i % 4 === 0 ? null : `s${i % n(2000)}`);
    }
    const audit = db.prepare(
      'INSERT INTO audit (agent_id, task_id, action_type, memory_operation_type, memory_namespace, memory_entry_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < n(20000); i++) {
      const memoryOp = i % 3 === 0;
      audit.run(i % 2 === 0 ? `a${i % n(3000)}` : null, i % 3 === 1 ? `t${i % n(5000)}` : null, memoryOp ? 'memory_update' : 'session_append_event', memoryOp ? pick(['create', 'update', 'delete'], i) : null, memoryOp ? `user:user${i % 200}` : null, memoryOp ? 1 + (i % n(8000)) : null);
    }
    const metric = db.prepare('INSERT INTO metrics (metric_name, metric_value, labels) VALUES (?, ?, ?)');
    for (let i = 0; i < n(10000); i++) metric.run(pick(['latency_ms', 'tokens', 'cost', 'queue_depth'], i), i % 100, '{}');
    const checkpoint = db.prepare('INSERT INTO checkpoints (task_id, iteration, state, session_id) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < n(5000); i++) checkpoint.run(`t${i % n(1000)}`, Math.floor(i / n(1000)), '{}', i % 3 === 0 ? null : `s${i % n(2000)}`);
    const state = db.prepare('INSERT INTO state (task_id, key, value) VALUES (?, ?, ?)');
    for (let i = 0; i < n(3000); i++) state.run(`t${i % n(1000)}`, `key${Math.floor(i / n(1000))}`, '1');
  })();
  db.exec('ANALYZE');
}
