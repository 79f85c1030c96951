import type sqlite3 from 'sqlite3';
import { catalogueConnection } from './catalogue-connection.js';
import { openStore, type JsonObject, type JsonValue, type Store } from '../src/index.js';
import { UsageError, type OperationCall, type Synchronous } from '../src/internal.js';
import { benchFile } from './paths.js';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The operations a workload drives, the same for every system compared. */
export interface System {
  readonly name: string;
  getSession(id: string): Promise<unknown>;
  getMemory(namespace: string, key: string): Promise<unknown>;
  context(q: { sessionId: string; userId: string; appName: string; projectId: string }): Promise<unknown>;
  appendEvent(id: string, event: JsonValue, stateDelta: JsonObject): Promise<unknown>;
  updateMemory(namespace: string, key: string, value: JsonValue): Promise<unknown>;
  /** Claims the next task; `undefined` when none is left. */
  claimNext(): Promise<{ id: string } | undefined>;
  completeTask(id: string, result: JsonValue): Promise<unknown>;
  saveCheckpoint(taskId: string, iteration: number, state: JsonValue): Promise<unknown>;
  recordMetric(name: string, value: number, labels: JsonObject): Promise<unknown>;
  close(): Promise<void>;
  /** The facade's own batch counters since it opened. */
  batches?(): { read: BatchCounts; write: BatchCounts };
}

/** Calls per reader message or per commit. */
export interface BatchCounts {
  batches: number;
  calls: number;
  mean: number;
  max: number;
}

export type SystemName = 'facade' | 'direct' | 'naive-pool' | 'node-sqlite3' | 'writer-limit' | 'before' | 'postgres';
/** The SQLite systems, compared by default. */
export const SYSTEMS: readonly SystemName[] = ['facade', 'direct', 'naive-pool', 'node-sqlite3'];
/**
 * Every system `--systems` accepts: the four; `writer-limit`, the single-connection write
 * ceiling (bench/writer-limit.ts), a baseline for write-only mixes; and `before`, the
 * facade of another build of this package (`--before DIR`), so that a change is measured
 * against what it changes in one run, trials interleaved, on the same seeded data; and
 * `postgres`, the store's facade on the PostgreSQL engine.
 */
export const ALL_SYSTEMS: readonly SystemName[] = [...SYSTEMS, 'writer-limit', 'before', 'postgres'];

export interface SystemOptions {
  path: string;
  readers: number;
  synchronous: Synchronous;
  maxWriteBatch?: number;
  /** For `before`: the root of the other build (its dist/src/index.js is loaded). */
  beforeApp?: string;
  /** The PostgreSQL database of a `postgres` trial, and its pool's size. */
  url?: string;
  pool?: number;
}

/** The store's own facade: writer thread, reader pool, group commit, batching. */
export async function facadeSystem(options: SystemOptions, open: typeof openStore = openStore, name = 'facade'): Promise<System & { store: Store }> {
  const store = await open({
    path: options.path,
    readers: options.readers,
    synchronous: options.synchronous,
    maxQueue: 1_000_000,
    ...(options.maxWriteBatch === undefined ? {} : { maxWriteBatch: options.maxWriteBatch }),
  });
  return { ...storeSystem(name, store), batches: () => store.stats().batches };
}

/** The same facade on the PostgreSQL engine: a node-postgres pool, one transaction per call. */
export async function postgresSystem(options: SystemOptions): Promise<System & { store: Store }> {
  if (options.url === undefined) throw new Error('the postgres system needs a database url');
  const store = await openStore({ url: options.url, maxQueue: 1_000_000, ...(options.pool === undefined ? {} : { pool: { max: options.pool } }) });
  return storeSystem('postgres', store);
}

/** A workload's calls on an open store, on either engine. */
function storeSystem(name: string, store: Store): System & { store: Store } {
  return {
    name,
    store,
    getSession: (id) => store.sessions.get(id),
    getMemory: (namespace, key) => store.memory.get(namespace, key),
    context: (q) => store.memory.context(q),
    appendEvent: (id, event, stateDelta) => store.sessions.appendEvent(id, event, { stateDelta }),
    updateMemory: (namespace, key, value) => store.memory.update(namespace, key, value),
    claimNext: () => store.tasks.claimNext(),
    completeTask: (id, result) => store.tasks.complete(id, result),
    saveCheckpoint: (taskId, iteration, state) => store.checkpoints.save({ taskId, iteration, state }),
    recordMetric: (name, value, labels) => store.metrics.record(name, value, { labels }),
    close: () => store.close(),
  };
}

// The catalogue calls each System method maps to, with arguments as the facade would
// send them (JSON already stringified). The direct and naive baselines run exactly the
// store's statements, so the comparison is of the architecture, not of the SQL.
export const catalogueCalls = {
  getSession: (id: string): OperationCall => ['sessions.get', [id, null, null]],
  getMemory: (namespace: string, key: string): OperationCall => ['memory.get', [namespace, key, null]],
  context: (q: { sessionId: string; userId: string; appName: string; projectId: string }): OperationCall => [
    'memory.context',
    [q.sessionId, q.userId, q.appName, q.projectId, 1000],
  ],
  appendEvent: (id: string, event: JsonValue, delta: JsonObject): OperationCall => [
    'sessions.appendEvent',
    [id, JSON.stringify(event), null, JSON.stringify(delta), 1 << 20, undefined],
  ],
  updateMemory: (namespace: string, key: string, value: JsonValue): OperationCall => [
    'memory.update',
    [namespace, key, JSON.stringify(value), null, null, null, undefined],
  ],
  // A claim with a lease as the facade takes one (a token, five minutes, no holder); its
  // answer is an outcome, whose task claimedTask takes.
  claimNext: (): OperationCall => ['tasks.claimNext', [null, { token: randomUUID(), leaseMs: 300_000, holder: null }, undefined]],
  completeTask: (id: string, result: JsonValue): OperationCall => ['tasks.complete', [id, JSON.stringify(result), null, undefined]],
  saveCheckpoint: (taskId: string, iteration: number, state: JsonValue): OperationCall => [
    'checkpoints.save',
    [taskId, iteration, JSON.stringify(state), null, undefined],
  ],
  recordMetric: (name: string, value: number, labels: JsonObject): OperationCall => [
    'metrics.record',
    [name, value, JSON.stringify(labels), undefined],
  ],
};

/** The task a `tasks.claimNext` call's outcome holds, if it claimed one. */
export function claimedTask(outcome: unknown): { id: string } | undefined {
  return (outcome as { task: { id: string } | undefined }).task;
}

/** A System whose every method is one catalogue call sent through `send`. */
function catalogueSystem(name: string, send: (call: OperationCall) => Promise<unknown>, close: () => Promise<void>): System {
  return {
    name,
    getSession: (id) => send(catalogueCalls.getSession(id)),
    getMemory: (namespace, key) => send(catalogueCalls.getMemory(namespace, key)),
    context: (q) => send(catalogueCalls.context(q)),
    appendEvent: (id, event, delta) => send(catalogueCalls.appendEvent(id, event, delta)),
    updateMemory: (namespace, key, value) => send(catalogueCalls.updateMemory(namespace, key, value)),
    claimNext: async () => claimedTask(await send(catalogueCalls.claimNext())),
    completeTask: (id, result) => send(catalogueCalls.completeTask(id, result)),
    saveCheckpoint: (taskId, iteration, state) => send(catalogueCalls.saveCheckpoint(taskId, iteration, state)),
    recordMetric: (name_, value, labels) => send(catalogueCalls.recordMetric(name_, value, labels)),
    close,
  };
}

/** better-sqlite3 on the caller's thread: fastest per call, but every call blocks the event loop. */
export function directSystem(options: SystemOptions): System {
  const { db, run } = catalogueConnection(options.path, options.synchronous);
  return catalogueSystem(
    'direct',
    async (call) => run(call),
    async () => {
      db.close();
    },
  );
}

/** A Piscina pool with one task per call and a read-write connection per thread. */
export async function naivePoolSystem(options: SystemOptions): Promise<System> {
  // A development dependency: loaded only when this system is measured.
  const { Piscina } = await import('piscina');
  const pool = new Piscina<{ call: OperationCall }, unknown>({
    filename: benchFile('naive-worker'),
    minThreads: options.readers,
    maxThreads: options.readers,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    workerData: { path: options.path, synchronous: options.synchronous },
  });
  return catalogueSystem(
    'naive-pool',
    (call) => pool.run({ call }),
    () => pool.destroy(),
  );
}

/** node-sqlite3: an asynchronous API over its own thread pool, one connection. */
export async function nodeSqlite3System(options: SystemOptions): Promise<System> {
  // A development dependency: loaded only when this system is measured.
  const { Database } = (await import('sqlite3')).default;
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new Database(options.path, (error) => (error ? reject(error) : resolve(handle)));
  });
  const exec = (sql: string): Promise<void> => new Promise((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve())));
  await exec(`PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'};`);
  // db.get / db.all, as node-sqlite3 is normally used: a cached Statement stays open
  // after get() until reset, and an open statement makes COMMIT fail with SQLITE_BUSY.
  const get = <T>(sql: string, ...params: unknown[]): Promise<T | undefined> =>
    new Promise((resolve, reject) => db.get(sql, params, (e: Error | null, row: T) => (e ? reject(e) : resolve(row))));
  const all = <T>(sql: string, ...params: unknown[]): Promise<T[]> =>
    new Promise((resolve, reject) => db.all(sql, params, (e: Error | null, rows: T[]) => (e ? reject(e) : resolve(rows))));
  // One connection: transactions must not interleave, so writes queue behind a mutex.
  let tail: Promise<unknown> = Promise.resolve();
  const transaction = <T>(body: () => Promise<T>): Promise<T> => {
    const run = tail.then(async () => {
      await exec('BEGIN IMMEDIATE');
      try {
        const value = await body();
        await exec('COMMIT');
        return value;
      } catch (error) {
        await exec('ROLLBACK').catch(() => {});
        throw error;
      }
    });
    tail = run.catch(() => {});
    return run;
  };
  const audit = (action: string, data: JsonValue): Promise<unknown> =>
    get('INSERT INTO audit (action_type, action_data, result) VALUES (?, ?, ?) RETURNING id', action, JSON.stringify(data), 'ok');
  const parseSession = (row: Record<string, string> | undefined, events: { event: string }[]) =>
    row && { ...row, events: events.map((e) => JSON.parse(e.event) as JsonValue), state: JSON.parse(row.state!) as JsonValue, metadata: JSON.parse(row.metadata!) as JsonValue };
  const latest = (prefix: string) =>
    all<Record<string, string>>(
      "SELECT *, max(version) FROM memory_entries WHERE (namespace = ? OR (namespace >= ? || ':' AND namespace < ? || ';')) AND is_deleted = 0 GROUP BY namespace, key",
      prefix,
      prefix,
      prefix,
    ).then((rows) => rows.map((r) => ({ ...r, value: JSON.parse(r.value!) as JsonValue })));
  return {
    name: 'node-sqlite3',
    // Two statements, as the store's get runs them (the store runs both in one snapshot).
    getSession: async (id) =>
      parseSession(await get('SELECT * FROM sessions WHERE id = ?', id), await all('SELECT event FROM session_events WHERE session_id = ? ORDER BY seq', id)),
    getMemory: async (namespace, key) => {
      const row = await get<Record<string, string>>(
        'SELECT * FROM memory_entries WHERE namespace = ? AND key = ? AND is_deleted = 0 ORDER BY version DESC LIMIT 1',
        namespace,
        key,
      );
      return row && { ...row, value: JSON.parse(row.value!) as JsonValue };
    },
    // Four queries, not one snapshot: node-sqlite3 offers no read transaction that
    // other callers' statements on the same connection would not also run inside.
    context: async (q) => ({
      session: await latest(`session:${q.sessionId}`),
      user: await latest(`user:${q.userId}`),
      app: await latest(`app:${q.appName}`),
      project: await latest(`project:${q.projectId}`),
    }),
    appendEvent: (id, event, delta) =>
      transaction(async () => {
        const row = await get<{ eventCount: number; lastUpdateTime: string }>(
          "UPDATE sessions SET event_count = event_count + 1, state = json_patch(state, ?), last_update_time = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? RETURNING event_count AS eventCount, last_update_time AS lastUpdateTime",
          JSON.stringify(delta),
          id,
        );
        await get(
          'INSERT INTO session_events (session_id, seq, event, created_at) VALUES (?, ?, ?, ?) RETURNING seq',
          id,
          row!.eventCount,
          JSON.stringify(event),
          row!.lastUpdateTime,
        );
        await audit('session_append_event', { sessionId: id, seq: row!.eventCount });
        return row;
      }),
    updateMemory: (namespace, key, value) =>
      transaction(async () => {
        const current = await get<Record<string, unknown>>(
          'SELECT * FROM memory_entries WHERE namespace = ? AND key = ? AND is_deleted = 0 ORDER BY version DESC LIMIT 1',
          namespace,
          key,
        );
        if (current === undefined) throw new Error('not found');
        const max = await get<{ v: number }>('SELECT max(version) AS v FROM memory_entries WHERE namespace = ? AND key = ?', namespace, key);
        const row = await get(
          'INSERT INTO memory_entries (namespace, key, value, memory_type, version, metadata) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
          namespace,
          key,
          JSON.stringify(value),
          current.memory_type,
          max!.v + 1,
          current.metadata,
        );
        await audit('memory_update', { namespace, key });
        return row;
      }),
    claimNext: () =>
      transaction(async () => {
        for (let priority = 1; priority <= 10; priority++) {
          const row = await get<{ id: string }>(
            "UPDATE tasks SET status = 'running', started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE rowid = (SELECT rowid FROM tasks WHERE status = 'pending' AND priority = ? ORDER BY submitted_at LIMIT 1) RETURNING id",
            priority,
          );
          if (row !== undefined) {
            await audit('task_claim', { taskId: row.id });
            return row;
          }
        }
        return undefined;
      }),
    completeTask: (id, result) =>
      transaction(async () => {
        const row = await get(
          "UPDATE tasks SET status = 'completed', result_data = ?, completed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND status = 'running' RETURNING id",
          JSON.stringify(result),
          id,
        );
        await audit('task_complete', { taskId: id });
        return row;
      }),
    saveCheckpoint: (taskId, iteration, state) =>
      transaction(async () => {
        const row = await get('INSERT INTO checkpoints (task_id, iteration, state) VALUES (?, ?, ?) RETURNING *', taskId, iteration, JSON.stringify(state));
        await audit('checkpoint_save', { taskId, iteration });
        return row;
      }),
    recordMetric: (name, value, labels) =>
      transaction(async () => {
        const row = await get('INSERT INTO metrics (metric_name, metric_value, labels) VALUES (?, ?, ?) RETURNING *', name, value, JSON.stringify(labels));
        await audit('metric_record', { name, value });
        return row;
      }),
    close: async () => {
      await tail;
      await new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** The facade of another build of this package, loaded from its root directory. */
async function beforeSystem(options: SystemOptions): Promise<System> {
  if (options.beforeApp === undefined) throw new UsageError('the before system needs --before DIR, the root of another build');
  const entry = pathToFileURL(join(resolve(options.beforeApp), 'dist', 'src', 'index.js')).href;
  const { openStore: open } = (await import(entry)) as { openStore: typeof openStore };
  return facadeSystem(options, open, 'before');
}

export async function openSystem(name: Exclude<SystemName, 'writer-limit'>, options: SystemOptions): Promise<System> {
  switch (name) {
    case 'facade':
      return facadeSystem(options);
    case 'before':
      return beforeSystem(options);
    case 'direct':
      return directSystem(options);
    case 'naive-pool':
      return naivePoolSystem(options);
    case 'node-sqlite3':
      return nodeSqlite3System(options);
    case 'postgres':
      return postgresSystem(options);
  }
}
