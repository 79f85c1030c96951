import type { CheckReport } from '../diagnostics/check.js';
import type { StoreEngine, StoreStats } from '../services/engine.js';
import { Engine } from '../sqlite/engine.js';
import { isPlainObject } from './validate.js';
import { resolveOptions, resolvePostgresOptions, type PostgresStoreOptions, type StoreOptions } from './options.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { adminBackup } from '../catalogue/admin.js';
import { StoreError } from './errors.js';
import { Agents } from '../services/agents.js';
import { Audit } from '../services/audit.js';
import { Checkpoints } from '../services/checkpoints.js';
import { Documents } from '../services/documents.js';
import { Memory } from '../services/memory.js';
import { Metrics } from '../services/metrics.js';
import { Sessions } from '../services/sessions.js';
import { TaskState } from '../services/state.js';
import { Tasks } from '../services/tasks.js';
import * as v from './validate.js';

/** Gives tests the engine (to kill threads on purpose); not exported from the package. */
export const kEngine = Symbol('abathur-store.engine');

/**
 * The store: one SQLite file, a writer thread that owns every write transaction, and a
 * pool of read-only reader threads; or, opened with a `url`, a PostgreSQL database
 * through a bounded connection pool. Every method returns a promise; nothing blocks the
 * caller's event loop on SQL.
 */
export class Store {
  readonly sessions: Sessions;
  readonly memory: Memory;
  readonly documents: Documents;
  readonly tasks: Tasks;
  readonly agents: Agents;
  readonly checkpoints: Checkpoints;
  readonly state: TaskState;
  readonly audit: Audit;
  readonly metrics: Metrics;
  readonly [kEngine]: StoreEngine;

  /** @internal Use {@link openStore}. */
  constructor(engine: StoreEngine) {
    this[kEngine] = engine;
    this.sessions = new Sessions(engine);
    this.memory = new Memory(engine);
    this.documents = new Documents(engine);
    this.tasks = new Tasks(engine);
    this.agents = new Agents(engine);
    this.checkpoints = new Checkpoints(engine);
    this.state = new TaskState(engine);
    this.audit = new Audit(engine);
    this.metrics = new Metrics(engine);
  }

  /** The database file's absolute path; on PostgreSQL, the server URL without its password. */
  get path(): string {
    return this[kEngine].location;
  }

  /** The storage engine: `'sqlite'`, or `'postgres'` for a store opened with a `url`. */
  get engine(): 'sqlite' | 'postgres' {
    return this[kEngine].kind;
  }

  /**
   * Verifies the database: integrity, foreign keys, WAL, the 33 index requirements and
   * the plan of every statement the store runs. Runs on the writer between batches.
   */
  check(): Promise<CheckReport> {
    return this[kEngine].check();
  }

  /**
   * Writes a consistent copy of the database to a new file (`VACUUM INTO`, on a reader:
   * writes go on meanwhile). The destination must not exist. On PostgreSQL it rejects
   * INVALID_STATE: back up the server with its own tools (pg_dump, base backups).
   *
   * @example
   * await store.backup(`./backups/abathur-${Date.now()}.db`);
   */
  backup(path: string): Promise<{ path: string; bytes: number }> {
    return this[kEngine].call(adminBackup, () => {
      const target = resolve(v.identifier('path', path));
      if (existsSync(target)) throw new StoreError('CONFLICT', `backup destination ${target} already exists`);
      return [target] as const;
    });
  }

  /** Queue depths, batch sizes, per-operation latency percentiles, WAL size, worker restarts. */
  stats(): StoreStats {
    return this[kEngine].stats();
  }

  /**
   * Stops accepting calls (they reject CLOSED), lets every accepted call finish,
   * checkpoints the WAL, closes the readers, then the writer.
   */
  close(): Promise<void> {
    return this[kEngine].close();
  }
}

/**
 * Opens (creating if needed) a store on a database file, or, given a `url`, on a
 * PostgreSQL server (its tables are created on first open; `pg` must be installed).
 *
 * @example
 * const store = await openStore({ path: './data/abathur.db' });
 * const session = await store.sessions.create({ appName: 'planner', userId: 'alice' });
 * await store.close();
 *
 * @example
 * const shared = await openStore({ url: 'postgres://abathur:secret@db.internal:5432/agents', pool: { max: 20 } });
 */
export async function openStore(options: StoreOptions | PostgresStoreOptions): Promise<Store> {
  if (isPlainObject(options) && 'url' in options) {
    const resolved = resolvePostgresOptions(options);
    // Loaded only here: a store on a SQLite file never loads the PostgreSQL engine or `pg`.
    const { PostgresEngine } = await import('../postgres/engine.js');
    return new Store(await PostgresEngine.start(resolved));
  }
  const resolved = resolveOptions(options);
  return new Store(await Engine.start(resolved));
}
