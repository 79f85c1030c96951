// Micro suite: every catalogue operation, one call at a time, through the store's facade
// and directly on a main-thread connection (statements prepared once, outside the timed
// function). Run with `npm run bench:micro`; writes bench-results/operations.json.
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { catalogueConnection } from './catalogue-connection.js';
import { machineInfo, table } from './report.js';
import { appOf, projectOf, seedDatabase, sessionIdOf, userOf } from './seed.js';
import { openStore, type Store } from '../src/index.js';
import { operations, type OperationCall } from '../src/internal.js';

const SESSIONS = 2000;
const POOL = 4000;
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 200);

/** Rows that destructive operations consume, one per iteration, made for each system. */
function addPools(path: string, system: string): void {
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  db.transaction(() => {
    const session = db.prepare("INSERT INTO sessions (id, app_name, user_id, status) VALUES (?, 'bench', 'pool', ?)");
    const memory = db.prepare("INSERT INTO memory_entries (namespace, key, value, memory_type, version) VALUES (?, ?, '1', 'semantic', ?)");
    const doc = db.prepare("INSERT INTO document_index (file_path, title, document_type, content_hash) VALUES (?, 'd', 'design', 'h')");
    const task = db.prepare("INSERT INTO tasks (id, prompt, input_data, status) VALUES (?, 'p', '{}', ?)");
    const agent = db.prepare("INSERT INTO agents (id, name, specialization, task_id, model, session_id) VALUES (?, 'a', 's', 'task0', 'm', ?)");
    for (let k = 0; k < POOL; k++) {
      session.run(`${system}-created-${k}`, 'created');
      session.run(`${system}-delete-${k}`, 'active');
      memory.run(`pool:${system}:delete`, `k${k}`, 1);
      memory.run(`pool:${system}:rollback`, `k${k}`, 1);
      memory.run(`pool:${system}:rollback`, `k${k}`, 2);
      doc.run(`pool/${system}/delete-${k}.md`);
      task.run(`${system}-running-${k}`, 'running');
      task.run(`${system}-failing-${k}`, 'running');
      task.run(`${system}-cancel-${k}`, 'pending');
      agent.run(`${system}-agent-${k}`, sessionIdOf(k % SESSIONS));
      agent.run(`${system}-term-${k}`, null);
    }
    for (let k = 0; k < 200; k++) doc.run(`docs/${k}.md`);
    db.prepare("INSERT INTO state (task_id, key, value) VALUES ('task0', 'progress', '1')").run();
    db.prepare("INSERT INTO checkpoints (task_id, iteration, state) VALUES ('task0', 0, '{}')").run();
  })();
  db.exec('ANALYZE');
  db.close();
}

interface Entry {
  direct: (i: number) => OperationCall;
  facade: (store: Store, i: number) => Promise<unknown>;
}

/** maxStateBytes, as the facade passes it by default. */
const MiB = 1 << 20;
const embedding = new Float32Array(384).map((_, i) => Math.sin(i));
const ctx = undefined;

/** One entry per catalogue operation: the same call, as wire arguments and as a facade call. */
function entries(system: string): Record<string, Entry> {
  const sid = (i: number): string => sessionIdOf(i % SESSIONS);
  const users = SESSIONS / 4;
  const projects = SESSIONS / 16;
  const q = (i: number) => ({ sessionId: sid(i), userId: userOf(i % SESSIONS, users), appName: appOf(i % SESSIONS, 4), projectId: projectOf(i % SESSIONS, projects) });
  return {
    'sessions.create': { direct: (i) => ['sessions.create', [`${system}-new-${i}`, 'bench', 'u', null, '{}', '{}', ctx]], facade: (s, i) => s.sessions.create({ id: `${system}-new-${i}`, appName: 'bench', userId: 'u' }) },
    'sessions.get': { direct: (i) => ['sessions.get', [sid(i), null, null]], facade: (s, i) => s.sessions.get(sid(i)) },
    'sessions.appendEvent': { direct: (i) => ['sessions.appendEvent', [sid(i), '{"n":1}', null, '{"n":1}', MiB, ctx]], facade: (s, i) => s.sessions.appendEvent(sid(i), { n: 1 }, { stateDelta: { n: 1 } }) },
    'sessions.setStatus': { direct: (i) => ['sessions.setStatus', [`${system}-created-${i}`, 'active', ctx]], facade: (s, i) => s.sessions.setStatus(`${system}-created-${i}`, 'active') },
    'sessions.getState': { direct: (i) => ['sessions.getState', [sid(i), 'user:theme']], facade: (s, i) => s.sessions.getState(sid(i), 'user:theme') },
    'sessions.setState': { direct: (i) => ['sessions.setState', [sid(i), '{"k":2}', MiB, ctx]], facade: (s, i) => s.sessions.setState(sid(i), { k: 2 }) },
    'sessions.listByUser': { direct: (i) => ['sessions.listByUser', [userOf(i, users), 50, null, 1]], facade: (s, i) => s.sessions.listByUser(userOf(i, users), { lastEvents: 1 }) },
    'sessions.listByProject': { direct: (i) => ['sessions.listByProject', [projectOf(i, projects), 50, null, 1]], facade: (s, i) => s.sessions.listByProject(projectOf(i, projects), { lastEvents: 1 }) },
    'sessions.delete': { direct: (i) => ['sessions.delete', [`${system}-delete-${i}`, ctx]], facade: (s, i) => s.sessions.delete(`${system}-delete-${i}`) },
    'memory.add': { direct: (i) => ['memory.add', [`user:${system}:new`, `k${i}`, '{"a":1}', 'semantic', '{}', null, ctx]], facade: (s, i) => s.memory.add({ namespace: `user:${system}:new`, key: `k${i}`, value: { a: 1 }, type: 'semantic' }) },
    'memory.get': { direct: (i) => ['memory.get', [`session:${sid(i)}`, `key${i % 10}`, null]], facade: (s, i) => s.memory.get(`session:${sid(i)}`, `key${i % 10}`) },
    'memory.update': { direct: (i) => ['memory.update', [`session:${sid(i)}`, `key${i % 10}`, '{"v":2}', null, null, null, ctx]], facade: (s, i) => s.memory.update(`session:${sid(i)}`, `key${i % 10}`, { v: 2 }) },
    'memory.delete': { direct: (i) => ['memory.delete', [`pool:${system}:delete`, `k${i}`, ctx]], facade: (s, i) => s.memory.delete(`pool:${system}:delete`, `k${i}`) },
    'memory.rollback': { direct: (i) => ['memory.rollback', [`pool:${system}:rollback`, `k${i}`, ctx]], facade: (s, i) => s.memory.rollback(`pool:${system}:rollback`, `k${i}`) },
    'memory.history': { direct: (i) => ['memory.history', [`session:${sid(i)}`, 'key1', 50, null]], facade: (s, i) => s.memory.history(`session:${sid(i)}`, 'key1') },
    'memory.search': { direct: (i) => ['memory.search', [`user:${userOf(i, users)}`, null, 50, null]], facade: (s, i) => s.memory.search({ namespacePrefix: `user:${userOf(i, users)}` }) },
    'memory.context': { direct: (i) => { const c = q(i); return ['memory.context', [c.sessionId, c.userId, c.appName, c.projectId, 1000]]; }, facade: (s, i) => s.memory.context(q(i)) },
    'memory.expireEpisodic': { direct: () => ['memory.expireEpisodic', ['2000-01-01T00:00:00.000Z', ctx]], facade: (s) => s.memory.expireEpisodic('2000-01-01T00:00:00.000Z') },
    'documents.upsert': { direct: (i) => ['documents.upsert', [`docs/${i % 200}.md`, 'D', 'design', `h${i}`, null, null, ctx]], facade: (s, i) => s.documents.upsert({ filePath: `docs/${i % 200}.md`, title: 'D', documentType: 'design', contentHash: `h${i}` }) },
    'documents.get': { direct: (i) => ['documents.get', [`docs/${i % 200}.md`]], facade: (s, i) => s.documents.get(`docs/${i % 200}.md`) },
    'documents.listByType': { direct: () => ['documents.listByType', ['design', 50, null]], facade: (s) => s.documents.listByType('design') },
    'documents.pendingSync': { direct: () => ['documents.pendingSync', [50, null]], facade: (s) => s.documents.pendingSync() },
    'documents.markSynced': { direct: (i) => ['documents.markSynced', [`docs/${i % 200}.md`, embedding, 'e', null, ctx]], facade: (s, i) => s.documents.markSynced(`docs/${i % 200}.md`, { embedding, embeddingModel: 'e' }) },
    'documents.markFailed': { direct: (i) => ['documents.markFailed', [`docs/${i % 200}.md`, 'x', ctx]], facade: (s, i) => s.documents.markFailed(`docs/${i % 200}.md`, { error: 'x' }) },
    'documents.delete': { direct: (i) => ['documents.delete', [`pool/${system}/delete-${i}.md`, ctx]], facade: (s, i) => s.documents.delete(`pool/${system}/delete-${i}.md`) },
    'tasks.create': { direct: (i) => ['tasks.create', [{ id: `${system}-t-${i}`, prompt: 'p', inputData: '{}', agentType: 'general', priority: 5, parentTaskId: null, dependencies: [], sessionId: null, createdBy: null, maxRetries: 3, timeoutSeconds: 3600 }, ctx]], facade: (s, i) => s.tasks.create({ id: `${system}-t-${i}`, prompt: 'p', inputData: {} }) },
    'tasks.get': { direct: (i) => ['tasks.get', [`task${i % 1000}`]], facade: (s, i) => s.tasks.get(`task${i % 1000}`) },
    'tasks.getWithSession': { direct: (i) => ['tasks.getWithSession', [`task${i % 1000}`]], facade: (s, i) => s.tasks.getWithSession(`task${i % 1000}`) },
    'tasks.listBySession': { direct: (i) => ['tasks.listBySession', [sid(i), 50, null]], facade: (s, i) => s.tasks.listBySession(sid(i)) },
    'tasks.listChildren': { direct: () => ['tasks.listChildren', ['task0', 50, null]], facade: (s) => s.tasks.listChildren('task0') },
    'tasks.claimNext': { direct: () => ['tasks.claimNext', [null, ctx]], facade: (s) => s.tasks.claimNext() },
    'tasks.complete': { direct: (i) => ['tasks.complete', [`${system}-running-${i}`, '{}', ctx]], facade: (s, i) => s.tasks.complete(`${system}-running-${i}`, {}) },
    'tasks.fail': { direct: (i) => ['tasks.fail', [`${system}-failing-${i}`, 'x', true, ctx]], facade: (s, i) => s.tasks.fail(`${system}-failing-${i}`, 'x') },
    'tasks.cancel': { direct: (i) => ['tasks.cancel', [`${system}-cancel-${i}`, ctx]], facade: (s, i) => s.tasks.cancel(`${system}-cancel-${i}`) },
    'agents.spawn': { direct: (i) => ['agents.spawn', [{ id: `${system}-new-agent-${i}`, name: 'a', specialization: 's', taskId: 'task0', model: 'm', sessionId: null, resourceUsage: null }, ctx]], facade: (s, i) => s.agents.spawn({ id: `${system}-new-agent-${i}`, name: 'a', specialization: 's', taskId: 'task0', model: 'm' }) },
    'agents.get': { direct: (i) => ['agents.get', [`${system}-agent-${i % POOL}`]], facade: (s, i) => s.agents.get(`${system}-agent-${i % POOL}`) },
    'agents.listBySession': { direct: (i) => ['agents.listBySession', [sid(i), 50, null]], facade: (s, i) => s.agents.listBySession(sid(i)) },
    'agents.listByTask': { direct: () => ['agents.listByTask', ['task0', 50, null]], facade: (s) => s.agents.listByTask('task0') },
    'agents.setState': { direct: (i) => ['agents.setState', [`${system}-agent-${i % POOL}`, 'working', null, ctx]], facade: (s, i) => s.agents.setState(`${system}-agent-${i % POOL}`, 'working') },
    'agents.terminate': { direct: (i) => ['agents.terminate', [`${system}-term-${i}`, null, ctx]], facade: (s, i) => s.agents.terminate(`${system}-term-${i}`) },
    'checkpoints.save': { direct: (i) => ['checkpoints.save', ['task0', i + 1, '{}', null, ctx]], facade: (s, i) => s.checkpoints.save({ taskId: 'task0', iteration: i + 1, state: {} }) },
    'checkpoints.get': { direct: () => ['checkpoints.get', ['task0', 0]], facade: (s) => s.checkpoints.get('task0', 0) },
    'checkpoints.latest': { direct: () => ['checkpoints.latest', ['task0']], facade: (s) => s.checkpoints.latest('task0') },
    'checkpoints.list': { direct: () => ['checkpoints.list', ['task0', 50, null]], facade: (s) => s.checkpoints.list('task0') },
    'state.get': { direct: () => ['state.get', ['task0', 'progress']], facade: (s) => s.state.get('task0', 'progress') },
    'state.set': { direct: (i) => ['state.set', ['task0', `k${i % 100}`, '1', ctx]], facade: (s, i) => s.state.set('task0', `k${i % 100}`, 1) },
    'audit.list': { direct: () => ['audit.list', [{ by: 'task', value: 'task0' }, null, 50, null]], facade: (s) => s.audit.list({ taskId: 'task0' }) },
    'metrics.record': { direct: (i) => ['metrics.record', ['bench', i % 100, '{}', ctx]], facade: (s, i) => s.metrics.record('bench', i % 100, { labels: {} }) },
    'metrics.query': { direct: () => ['metrics.query', ['bench', null, null, 50, null]], facade: (s) => s.metrics.query({ name: 'bench' }) },
  };
}

// Operations that are not per-call micro benchmarks, and why (none at present: a backup is
// not a catalogue operation, it runs on a thread of its own).
const SKIPPED: Record<string, string> = {};

const dir = mkdtempSync(join(tmpdir(), 'abathur-micro-'));
try {
  const template = seedDatabase(join(dir, 'template.db'), { sessions: SESSIONS, memoryPerScope: 10, tasks: 20_000 }).path;
  const directPath = join(dir, 'direct.db');
  const facadePath = join(dir, 'facade.db');
  copyFileSync(template, directPath);
  copyFileSync(template, facadePath);
  addPools(directPath, 'direct');
  addPools(facadePath, 'facade');
  const direct = catalogueConnection(directPath, 'normal');
  const store = await openStore({ path: facadePath });
  const directEntries = entries('direct');
  const facadeEntries = entries('facade');
  const missing = operations.map((op) => op.name).filter((name) => directEntries[name] === undefined && SKIPPED[name] === undefined);
  if (missing.length > 0) throw new Error(`no micro benchmark for ${missing.join(', ')}`);

  const bench = new Bench({ time: TIME_MS, warmupTime: 20, iterations: 32, throws: true });
  const counters = new Map<string, number>();
  const counter = (key: string): number => {
    const n = counters.get(key) ?? 0;
    counters.set(key, n + 1);
    return n;
  };
  for (const [name, entry] of Object.entries(directEntries)) {
    bench.add(`direct ${name}`, () => {
      direct.run(entry.direct(counter(`direct ${name}`)));
    });
    bench.add(`facade ${name}`, async () => {
      await facadeEntries[name]!.facade(store, counter(`facade ${name}`));
    });
  }
  await bench.run();
  await store.close();
  direct.db.close();

  const rows = [['operation', 'direct mean', 'facade mean', 'facade p99', 'facade / direct']];
  const json: Record<string, { directUs: number; facadeUs: number; facadeP99Us: number }> = {};
  const resultOf = (taskName: string) => {
    const result = bench.getTask(taskName)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`${taskName} did not complete`);
    return result.latency;
  };
  for (const name of Object.keys(directEntries)) {
    const d = resultOf(`direct ${name}`);
    const f = resultOf(`facade ${name}`);
    json[name] = { directUs: d.mean * 1000, facadeUs: f.mean * 1000, facadeP99Us: f.p99 * 1000 };
    rows.push([name, `${(d.mean * 1000).toFixed(1)} us`, `${(f.mean * 1000).toFixed(1)} us`, `${(f.p99 * 1000).toFixed(0)} us`, `${(f.mean / d.mean).toFixed(1)}x`]);
  }
  const machine = machineInfo();
  console.log(`one call at a time (latency, not throughput): ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, SQLite ${machine.sqlite}`);
  console.log(table(rows));
  for (const [name, reason] of Object.entries(SKIPPED)) console.log(`skipped ${name}: ${reason}`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/operations.json', JSON.stringify({ machine, timeMs: TIME_MS, operations: json }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
