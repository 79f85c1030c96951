import type { Connection } from '../../src/sqlite/connection.js';

/**
 * Rows in the LangGraph adapter's tables, spread as graphs leave them: many threads, a
 * few subgraph namespaces, tens of checkpoints per thread with a value per changed
 * channel and writes per task; store items under user namespaces, some expiring, some
 * with vectors.
 */
export function populateLangGraph(db: Connection, n: (count: number) => number): void {
  const checkpoint = db.prepare(
    'INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, v, checkpoint_type, checkpoint, ' +
      "channel_versions, metadata_type, metadata, metadata_json) VALUES (?, ?, ?, ?, 4, 'json', ?, ?, 'json', ?, ?)",
  );
  const blob = db.prepare("INSERT INTO lg_checkpoint_blobs VALUES (?, ?, ?, ?, 'json', ?)");
  const write = db.prepare("INSERT INTO lg_checkpoint_writes VALUES (?, ?, ?, ?, ?, ?, 'json', ?, ?)");
  const bytes = Buffer.from('{"x":1}');
  for (let t = 0; t < n(300); t++) {
    for (const ns of t % 10 === 0 ? ['', `tools:${t}`] : ['']) {
      let parent: string | null = null;
      for (let step = 0; step < 20; step++) {
        const id = `1ef${String(t).padStart(5, '0')}-${String(step).padStart(4, '0')}`;
        const metadata = JSON.stringify({ source: step === 0 ? 'input' : 'loop', step: step - 1, parents: {} });
        checkpoint.run(`thread-${t}`, ns, id, parent, bytes, JSON.stringify({ messages: step + 0.25, step: step + 0.25 }), Buffer.from(metadata), metadata);
        blob.run(`thread-${t}`, ns, 'messages', step + 0.25, bytes);
        blob.run(`thread-${t}`, ns, 'step', step + 0.25, bytes);
        write.run(`thread-${t}`, ns, id, `task-${step}`, 0, 'messages', bytes, `~__pregel_pull, node${step % 3}`);
        parent = id;
      }
    }
  }
  const item = db.prepare(
    'INSERT INTO lg_store (namespace, key, value, ttl_minutes, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  const vector = db.prepare('INSERT INTO lg_store_vectors VALUES (?, ?, ?, ?, 1)');
  for (let i = 0; i < n(3000); i++) {
    const ns = ['users', `user${i % 200}`, i % 2 === 0 ? 'memories' : 'prefs'].join('\u001f');
    const expiring = i % 5 === 0;
    item.run(ns, `key${i}`, JSON.stringify({ text: `memory ${i}`, n: i }), expiring ? 60 : null, expiring ? '2030-01-01T00:00:00.000Z' : null);
    if (i % 3 === 0) vector.run(ns, `key${i}`, '$', Buffer.alloc(16));
  }
}
