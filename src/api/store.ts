import type { StoreEngine } from '../services/engine.js';
import { Engine } from '../sqlite/engine.js';
import { createDirectoryFor } from '../sqlite/files.js';
import { instrument } from '../telemetry/instrument.js';
import { Agents } from '../services/agents.js';
import { Audit } from '../services/audit.js';
import { Checkpoints } from '../services/checkpoints.js';
import { Documents } from '../services/documents.js';
import { Memory } from '../services/memory.js';
import { Metrics } from '../services/metrics.js';
import { Sessions } from '../services/sessions.js';
import { TaskState } from '../services/state.js';
import { Tasks } from '../services/tasks.js';
import { StoreError, toStoreError } from './errors.js';
import { createStore, linkEngine, provideStoreConstructor } from './internal.js';
import { resolveOptions, resolvePostgresOptions } from './options.js';
import type { BackupResult, CallOptions, CheckReport, EngineKind, PostgresStoreOptions, StoreOptions, StoreStats } from './types.js';
import * as v from './validate.js';
import { resolve } from 'node:path';

/**
 * The store: one SQLite file, a writer thread that owns every write transaction, and a
 * pool of read-only reader threads; or, opened with a `url`, a PostgreSQL database
 * through a bounded connection pool. Every method returns a promise except `stats()`,
 * which reads counters the caller's thread already holds; nothing blocks the caller's
 * event loop on SQL. Made by {@link openStore}.
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
  // A private field: the declarations show `#private`, never the engine's type, and
  // nothing outside the package can reach it (internal.ts's engineOf is the package's way).
  readonly #engine: StoreEngine;

  static {
    provideStoreConstructor((engine) => new Store(engine));
  }

  private constructor(engine: StoreEngine) {
    this.#engine = engine;
    linkEngine(this, engine);
    this.sessions = new Sessions(this);
    this.memory = new Memory(this);
    this.documents = new Documents(this);
    this.tasks = new Tasks(this);
    this.agents = new Agents(this);
    this.checkpoints = new Checkpoints(this);
    this.state = new TaskState(this);
    this.audit = new Audit(this);
    this.metrics = new Metrics(this);
  }

  /** The database file's absolute path; on PostgreSQL, the server URL without its password. */
  get path(): string {
    return this.#engine.location;
  }

  /** The storage engine: `'sqlite'`, or `'postgres'` for a store opened with a `url`. */
  get engine(): EngineKind {
    return this.#engine.kind;
  }

  /**
   * Verifies the database: integrity, foreign keys, WAL, the 33 index requirements and
   * the plan of every statement the store runs. Runs on the writer between batches.
   */
  check(): Promise<CheckReport> {
    return this.#engine.check();
  }

  /**
   * Writes a consistent copy of the database to a new file (`VACUUM INTO`, on a thread and
   * a connection of its own: reads and writes go on meanwhile). The copy is made under a
   * temporary name in the destination's directory and takes its name only once whole, so
   * the destination holds the whole copy or nothing. The destination must not exist
   * (CONFLICT, also when another backup takes the name first); it gets the store's
   * `fileMode` (owner-only by default). Backups run one at a time. On PostgreSQL it
   * rejects INVALID_STATE: back the server up with its own tools (pg_dump, base backups).
   *
   * @example
   * await store.backup(`./backups/abathur-${Date.now()}.db`);
   */
  backup(path: string, options?: CallOptions): Promise<BackupResult> {
    let target: string;
    try {
      v.options('options', options, []);
      target = resolve(v.identifier('path', path));
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new StoreError('INVALID_ARGUMENT', 'signal must be an AbortSignal'));
    }
    return this.#engine.backup(target, signal);
  }

  /**
   * Queue depths, batch sizes, per-operation latency percentiles, WAL size, worker
   * restarts. Synchronous, unlike every other method: it copies counters the caller's
   * thread already keeps, asks no thread and touches no file, so a monitoring loop can
   * sample it without awaiting.
   */
  stats(): StoreStats {
    return this.#engine.stats();
  }

  /**
   * Stops accepting calls (they reject CLOSED), lets every accepted call finish,
   * checkpoints the WAL, closes the readers, then the writer.
   */
  close(): Promise<void> {
    return this.#engine.close();
  }
}

/**
 * Opens (creating if needed) a store on a database file; a new file, its `-wal` and
 * `-shm` files are created owner-only (`fileMode`, default 0o600), and a missing
 * directory (with its missing parents) owner-only too (0o700). Given a `url`, opens
 * it on a PostgreSQL server instead (its schema is created on first open; the optional
 * peer dependency `pg` must be installed).
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
  if (v.isPlainObject(options) && 'url' in options) {
    const resolved = resolvePostgresOptions(options);
    // Loaded only here: a store on a SQLite file never loads the PostgreSQL engine or `pg`.
    const { PostgresEngine } = await import('../postgres/engine.js');
    return createStore(await instrument(await PostgresEngine.start(resolved), resolved.telemetry));
  }
  const resolved = resolveOptions(options);
  // Here, once, not where the writer opens the file: a writer that restarts after its
  // directory was moved away must fail, not start an empty store in a new directory.
  createDirectoryFor(resolved.path, resolved.fileMode);
  return createStore(await instrument(await Engine.start(resolved), resolved.telemetry));
}
