import { resolve } from 'node:path';
import type { StoreEngine } from './api/engine.js';
import { StoreError, toStoreError } from './api/errors.js';
import { resolveOptions, resolvePostgresOptions } from './api/options.js';
import type { BackupResult, CallOptions, CheckReport, EngineKind, PostgresStoreOptions, StoreOptions, StoreStats } from './api/types.js';
import * as v from './api/validate.js';
import { Agents } from './services/agents.js';
import { Audit } from './services/audit.js';
import { Checkpoints } from './services/checkpoints.js';
import { Documents } from './services/documents.js';
import { Memory } from './services/memory.js';
import { Metrics } from './services/metrics.js';
import { Sessions } from './services/sessions.js';
import { TaskState } from './services/state.js';
import { Tasks } from './services/tasks.js';
import { Engine } from './sqlite/engine.js';
import { createDirectoryFor } from './sqlite/files.js';
import { instrument } from './telemetry/instrument.js';

// The composition root: the top of the library. It starts an engine (SQLite's, or
// PostgreSQL's) and builds every service on it; it imports only downward, and nothing in
// the library below imports it. The framework adapters, the command line and src/index.ts
// stand above it.

// Set by Store's static block: the seam's two ways into a Store (see the end of this module).
let reachEngine: (store: Store) => StoreEngine;
let construct: (engine: StoreEngine) => Store;

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
  // nothing outside the package can reach it (engineOf below is the package's way).
  readonly #engine: StoreEngine;

  // The package's internal seam, in this module alone: engineOf and createStore below
  // reach the private engine and the private constructor through these.
  static {
    reachEngine = (store) => {
      if (typeof store !== 'object' || store === null || !(#engine in store)) throw new TypeError('expected a Store made by openStore');
      return store.#engine;
    };
    construct = (engine) => new Store(engine);
  }

  private constructor(engine: StoreEngine) {
    this.#engine = engine;
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
    const { PostgresEngine } = await import('./postgres/engine.js');
    return createStore(await instrument(await PostgresEngine.start(resolved), resolved.telemetry));
  }
  const resolved = resolveOptions(options);
  // Here, once, not where the writer opens the file: a writer that restarts after its
  // directory was moved away must fail, not start an empty store in a new directory.
  createDirectoryFor(resolved.path, resolved.fileMode);
  return createStore(await instrument(await Engine.start(resolved), resolved.telemetry));
}

// ---- The internal seam ----
// The package's one way to the engine behind a Store, for the framework adapters
// (src/langgraph, src/adk: they run their own catalogue operations on it), the command
// line's demo and the tests. src/index.ts does not export it and the package's exports
// map does not reach this module: a user never sees it.

/**
 * The engine behind a Store made by {@link openStore} (or {@link createStore}).
 *
 * @internal
 */
export function engineOf(store: Store): StoreEngine {
  return reachEngine(store);
}

/**
 * A Store over an engine already started (openStore's, or a test's in-process one).
 *
 * @internal
 */
export function createStore(engine: StoreEngine): Store {
  return construct(engine);
}
