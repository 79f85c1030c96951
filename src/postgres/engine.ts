import type { Pool, PoolClient } from 'pg';
import { ChangeFeed, type ChangeListener, type ChangeSubscription } from '../api/change-feed.js';
import { aborted, overloaded, StoreError, toStoreError } from '../api/errors.js';
import type { ResolvedPostgresOptions } from '../api/options.js';
import type { BackupResult, CheckReport, StoreStats } from '../api/types.js';
import type { ArgsOf, CallTrace, OperationRef, ResultOf, StoreEngine } from '../api/engine.js';
import { EngineStats } from '../diagnostics/engine-stats.js';
import { checkPostgres } from './check.js';
import { loadPg, storeTypes } from './driver.js';
import { pgStoreError } from './errors.js';
import { pgListener } from './listener.js';
import { execute } from './executor.js';
import { OwnConnections, REPORTED_WRITES, type OwnConnection } from './own-connections.js';
import type { PgImplementation } from './operation.js';
import { pgImplementations } from './operations/index.js';
import { migrate } from './schema.js';

/** Idle connections in a transaction longer than this are closed by the server (a stuck caller must not hold locks forever). */
const IDLE_IN_TRANSACTION_MS = 60_000;

/**
 * A call's wait for a connection is timed by the executor, at `pool.connectionTimeoutMs`,
 * so that it is known by its own error; the pool's timers run this much later and only
 * clean up (a queued request nobody waits for any more, a connection attempt that hangs).
 */
const POOL_TIMER_MARGIN_MS = 1000;

const EMPTY_BATCHES = { batches: 0, calls: 0, mean: 0, max: 0 };


/** The pool's settings for one store: bounded, typed, in the store's schema, cancelled by the server when too slow. */
export async function createPool(options: ResolvedPostgresOptions): Promise<Pool> {
  const pg = await loadPg();
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.pool.max,
    connectionTimeoutMillis: options.pool.connectionTimeoutMs + POOL_TIMER_MARGIN_MS,
    idleTimeoutMillis: options.pool.idleTimeoutMs,
    application_name: 'abathur-store',
    keepAlive: true,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    // Every statement names its tables unqualified; the schema is the store's.
    options: `-c search_path=${options.schema}`,
    types: storeTypes(pg),
    // node-postgres 8.20 and later: queries sent together are answered together (a
    // transaction's BEGIN with its first statement, the audit rows with the COMMIT); an
    // older one ignores the option and answers one query at a time.
    pipeline: true,
  });
  // An idle connection that dies (server restart, a killed backend) is reported here and
  // dropped from the pool; without a listener the 'error' event would end the process.
  pool.on('error', () => {});
  // From its first connection (the migration's) on, the pool's backend pids are known.
  OwnConnections.of(pool);
  return pool;
}

/**
 * The PostgreSQL engine: each call runs on a connection of a bounded node-postgres pool,
 * in its own transaction. Many hosts may open stores on one database: PostgreSQL, not
 * this process, serialises their writes (row locks, SKIP LOCKED claims, unique
 * constraints), so there is no writer thread and no group commit here.
 */
export class PostgresEngine implements StoreEngine {
  readonly kind = 'postgres';
  readonly options: ResolvedPostgresOptions;
  readonly #pool: Pool;
  readonly #implementations: ReadonlyMap<string, PgImplementation>;
  readonly #stats = new EngineStats();
  /** Calls accepted and not yet settled, by kind: running on a connection or waiting for one. */
  readonly #accepted = { read: 0, write: 0 };
  /** Of those, the calls that have not had a connection yet. */
  readonly #waiting = { read: 0, write: 0 };
  readonly #changes: ChangeFeed;
  readonly #own: OwnConnections;
  #closing: Promise<void> | undefined;
  #settled: (() => void) | undefined;

  /** @internal Use {@link PostgresEngine.start}. */
  constructor(options: ResolvedPostgresOptions, pool: Pool, implementations: readonly PgImplementation[] = pgImplementations) {
    this.options = options;
    this.#pool = pool;
    this.#own = OwnConnections.of(pool);
    this.#changes = new ChangeFeed(pgListener(options, this.#own));
    this.#implementations = new Map(implementations.map((implementation) => [implementation.operation.name, implementation]));
  }

  /** Connects, brings the schema to this library's version (once across hosts), and is ready. */
  static async start(options: ResolvedPostgresOptions): Promise<PostgresEngine> {
    const pool = await createPool(options);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, options.schema);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => {});
      const failure = pgStoreError(error, { operation: `openStore(${options.location})`, phase: 'connect', write: true });
      throw failure;
    }
    return new PostgresEngine(options, pool);
  }

  get location(): string {
    return this.options.location;
  }

  /** The pool, for check() and for tests. */
  get pool(): Pool {
    return this.#pool;
  }

  /**
   * Runs one catalogue operation on a pooled connection. A `signal` that aborts while the
   * call still waits for a connection withdraws it (ABORTED); once it has one, it runs to
   * the end.
   */
  call<O extends OperationRef>(operation: O, build: () => ArgsOf<O>, signal?: unknown, trace?: CallTrace): Promise<ResultOf<O>> {
    if (this.#closing !== undefined) {
      return Promise.reject(new StoreError('CLOSED', `store is closed; ${operation.name} was not run`));
    }
    if (signal !== undefined) {
      if (!(signal instanceof AbortSignal)) return Promise.reject(new StoreError('INVALID_ARGUMENT', 'signal must be an AbortSignal'));
      if (signal.aborted) return Promise.reject(aborted(operation.name, signal));
    }
    const implementation = this.#implementations.get(operation.name);
    if (implementation === undefined) {
      return Promise.reject(new StoreError('INVALID_STATE', `${operation.name} is not available on the PostgreSQL engine`));
    }
    // The pool's own queue has no bound: admit at most max running + maxQueue waiting.
    const accepted = this.#accepted.read + this.#accepted.write;
    if (accepted >= this.options.pool.max + this.options.maxQueue) {
      return Promise.reject(
        overloaded(
          `${accepted} calls are running or waiting for a PostgreSQL connection (pool ${this.options.pool.max} + maxQueue ${this.options.maxQueue}); ${operation.name} was not run, retry later`,
        ),
      );
    }
    let args: ArgsOf<O>;
    try {
      args = build();
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
    const kind = operation.kind;
    this.#accepted[kind]++;
    this.#waiting[kind]++;
    let waiting = true;
    // A write the change feed will not report: LISTEN lets its connection's notifications through.
    const unreported: OwnConnection[] | undefined = kind === 'write' && !(this.#changes.active && REPORTED_WRITES.has(operation.name)) ? [] : undefined;
    const onConnected = (client: PoolClient): void => {
      if (unreported !== undefined) {
        const connection = this.#own.unreported(client);
        if (connection !== undefined) unreported.push(connection);
      }
      connected();
    };
    const connected = (): void => {
      if (waiting) {
        waiting = false;
        this.#waiting[kind]--;
        if (trace !== undefined) {
          trace.sent = performance.now();
          trace.batch = 1;
        }
      }
    };
    const start = performance.now();
    const wait = { onConnected, connectionTimeoutMs: this.options.pool.connectionTimeoutMs };
    const options = signal === undefined ? wait : { ...wait, signal };
    const result = execute(this.#pool, implementation, args, options).finally(() => {
      connected();
      if (unreported !== undefined) this.#own.settled(unreported);
      this.#accepted[kind]--;
      this.#stats.recordLatency(operation.name, start);
      if (this.#accepted.read + this.#accepted.write === 0) this.#settled?.();
    }) as Promise<ResultOf<O>>;
    if (kind === 'write') this.#changes.observeWrite(operation.name, args, result);
    return result;
  }

  watchChanges(listener: ChangeListener): ChangeSubscription {
    return this.#changes.subscribe(listener);
  }

  check(): Promise<CheckReport> {
    if (this.#closing !== undefined) return Promise.reject(new StoreError('CLOSED', 'store is closed'));
    return checkPostgres(this.#pool, { location: this.location, schema: this.options.schema, implementations: [...this.#implementations.values()] });
  }

  /** A PostgreSQL database is not a file: the server's own tools back it up. */
  backup(path: string, signal?: AbortSignal): Promise<BackupResult> {
    if (this.#closing !== undefined) return Promise.reject(new StoreError('CLOSED', 'store is closed; backup was not run'));
    if (signal?.aborted) return Promise.reject(aborted('backup', signal));
    return Promise.reject(
      new StoreError(
        'INVALID_STATE',
        `backup(${path}) copies a SQLite file; a store on PostgreSQL is backed up with the server's own tools (pg_dump, base backups and WAL archiving)`,
      ),
    );
  }

  stats(): StoreStats {
    const waiting = this.#waiting.read + this.#waiting.write;
    return {
      engine: 'postgres',
      queues: { read: this.#waiting.read, write: this.#waiting.write },
      batches: { read: { ...EMPTY_BATCHES }, write: { ...EMPTY_BATCHES } },
      latency: this.#stats.latency(),
      wal: { bytes: 0, peakBytes: 0 },
      restarts: { readers: 0, writer: 0 },
      readers: 0,
      limits: { maxPayloadBytes: this.options.maxPayloadBytes, maxStateBytes: this.options.maxStateBytes },
      pool: { max: this.options.pool.max, total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting },
    };
  }

  resetStats(): void {
    this.#stats.reset();
  }

  /** Stops accepting calls, lets the accepted ones finish, then closes every connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#changes.close();
      if (this.#accepted.read + this.#accepted.write > 0) {
        await new Promise<void>((resolve) => {
          this.#settled = resolve;
        });
      }
      await this.#pool.end();
    })();
    return this.#closing;
  }
}
