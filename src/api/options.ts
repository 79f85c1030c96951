import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Synchronous } from '../sqlite/connection.js';
import { invalidArgument } from './errors.js';
import { boolean, integer, isPlainObject, oneOf, options as knownOptions } from './validate.js';

export interface StoreOptions {
  /** The database file. Created (with its directory's WAL and SHM files) when missing. */
  path: string;
  /** Reader threads, each with its own read-only connection. Default: cores, 1 to 4. */
  readers?: number;
  /** `'normal'` (default) survives process crashes; `'full'` also power loss, slower. */
  synchronous?: Synchronous;
  /** Calls that may wait per queue (reads, writes) before new ones get OVERLOADED. Default 10000. */
  maxQueue?: number;
  /** How long SQLite waits on a lock before SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /** Most reads sent to a reader in one message. Default 256. */
  maxReadBatch?: number;
  /** Most writes committed in one transaction. Default 512. */
  maxWriteBatch?: number;
  /** WAL size that forces a TRUNCATE checkpoint past starving readers. Default 32 MiB. */
  walLimitBytes?: number;
  /** Size the WAL file is cut back to when it restarts (`journal_size_limit`). Default 8 MiB. */
  journalSizeLimit?: number;
  /** Period of the writer's idle checkpoint and least gap between forced ones. Default 1000. */
  checkpointIntervalMs?: number;
  /** False leaves checkpoints to SQLite's own passive auto-checkpoint alone. Default true. */
  manageWal?: boolean;
  /**
   * Added to the reader threads' nice value on Linux (0 to 19; elsewhere ignored). When
   * readers and the caller's thread want more CPU than there is, the caller's event loop
   * wins, which keeps its delay low. Default 5.
   */
  readerNice?: number;
}

export type ResolvedOptions = Required<StoreOptions>;

/**
 * A store on a PostgreSQL server (through the optional peer dependency `pg`), for
 * orchestrators that span several hosts: the same services, shapes and error codes.
 */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (or `postgresql://…`; libpq query parameters such as `sslmode` are passed on). */
  url: string;
  pool?: {
    /** Connections at most. Default 10. */
    max?: number;
    /** How long a call may wait for a connection (to open one, or for one to come free) before it rejects OVERLOADED. Default 10000. */
    connectionTimeoutMs?: number;
    /** An idle connection is closed after this long (0: never). Default 10000. */
    idleTimeoutMs?: number;
  };
  /** Calls that may wait for a connection beyond `pool.max` running ones before new ones get OVERLOADED. Default 10000. */
  maxQueue?: number;
  /** The server cancels a statement that runs longer (the call rejects ABORTED, nothing is written); 0: no limit. Default 30000. */
  statementTimeoutMs?: number;
  /** The PostgreSQL schema the store's tables live in, created when missing. Default `abathur`. */
  schema?: string;
}

export interface ResolvedPostgresOptions {
  url: string;
  /** The URL without its password, for messages and reports. */
  location: string;
  pool: { max: number; connectionTimeoutMs: number; idleTimeoutMs: number };
  maxQueue: number;
  statementTimeoutMs: number;
  schema: string;
}

const POSTGRES_KNOWN = ['url', 'pool', 'maxQueue', 'statementTimeoutMs', 'schema'] as const;

/** The URL as it may be shown: the password replaced. */
export function redactUrl(url: URL): string {
  const shown = new URL(url.href);
  if (shown.password !== '') shown.password = '***';
  return shown.href;
}

/** Checks PostgreSQL options once and fills in the defaults. */
export function resolvePostgresOptions(input: Record<string, unknown>): ResolvedPostgresOptions {
  if ('path' in input) {
    throw invalidArgument('give either options.path (a SQLite file) or options.url (a PostgreSQL server), not both');
  }
  const sqliteOnly = KNOWN.find((key) => key !== 'path' && key !== 'maxQueue' && key in input);
  if (sqliteOnly !== undefined) {
    throw invalidArgument(`options.${sqliteOnly} applies to the SQLite engine only; a store on options.url does not take it`);
  }
  const o = knownOptions('openStore options', input, POSTGRES_KNOWN);
  let url: URL | undefined;
  try {
    url = typeof o.url === 'string' ? new URL(o.url) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '') {
    throw invalidArgument('options.url must be a PostgreSQL URL like postgres://user:password@host:5432/database');
  }
  const opt = <T>(value: unknown, fallback: T, check: (v: unknown) => T): T => (value === undefined ? fallback : check(value));
  const pool = knownOptions('options.pool', o.pool, ['max', 'connectionTimeoutMs', 'idleTimeoutMs'] as const);
  const schema = opt(o.schema, 'abathur', (v) => {
    if (typeof v !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
      throw invalidArgument('options.schema must be a lower-case PostgreSQL identifier like "abathur" (letters, digits, _)');
    }
    return v;
  });
  return {
    url: url.href,
    location: redactUrl(url),
    pool: {
      max: opt(pool.max, 10, (v) => integer('options.pool.max', v, 1, 1000)),
      connectionTimeoutMs: opt(pool.connectionTimeoutMs, 10_000, (v) => integer('options.pool.connectionTimeoutMs', v, 1, 600_000)),
      idleTimeoutMs: opt(pool.idleTimeoutMs, 10_000, (v) => integer('options.pool.idleTimeoutMs', v, 0, 3_600_000)),
    },
    maxQueue: opt(o.maxQueue, 10_000, (v) => integer('options.maxQueue', v, 1, 10_000_000)),
    statementTimeoutMs: opt(o.statementTimeoutMs, 30_000, (v) => integer('options.statementTimeoutMs', v, 0, 86_400_000)),
    schema,
  };
}

const KNOWN = [
  'path',
  'readers',
  'synchronous',
  'maxQueue',
  'busyTimeoutMs',
  'maxReadBatch',
  'maxWriteBatch',
  'walLimitBytes',
  'journalSizeLimit',
  'checkpointIntervalMs',
  'manageWal',
  'readerNice',
] as const;

const MiB = 1024 * 1024;

export function defaultReaders(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Checks `openStore`'s options once and fills in the defaults. */
export function resolveOptions(input: unknown): ResolvedOptions {
  if (!isPlainObject(input)) {
    throw invalidArgument('openStore expects an options object like { path: "./data/store.db" } or { url: "postgres://…" }');
  }
  const o = knownOptions('openStore options', input, KNOWN);
  if (typeof o.path !== 'string' || o.path.length === 0) {
    throw invalidArgument('options.path must be the database file path, a non-empty string');
  }
  if (o.path === ':memory:' || o.path.startsWith('file::memory:')) {
    throw invalidArgument(
      'options.path cannot be ":memory:": an in-memory database cannot be shared between the writer and reader threads; use a file path',
    );
  }
  const opt = <T>(value: unknown, fallback: T, check: (v: unknown) => T): T => (value === undefined ? fallback : check(value));
  const resolved: ResolvedOptions = {
    path: resolve(o.path),
    readers: opt(o.readers, defaultReaders(), (v) => integer('options.readers', v, 1, 64)),
    synchronous: opt(o.synchronous, 'normal', (v) => oneOf('options.synchronous', v, ['normal', 'full'] as const)),
    maxQueue: opt(o.maxQueue, 10_000, (v) => integer('options.maxQueue', v, 1, 10_000_000)),
    busyTimeoutMs: opt(o.busyTimeoutMs, 5000, (v) => integer('options.busyTimeoutMs', v, 0, 600_000)),
    maxReadBatch: opt(o.maxReadBatch, 256, (v) => integer('options.maxReadBatch', v, 1, 65_536)),
    maxWriteBatch: opt(o.maxWriteBatch, 512, (v) => integer('options.maxWriteBatch', v, 1, 65_536)),
    walLimitBytes: opt(o.walLimitBytes, 32 * MiB, (v) => integer('options.walLimitBytes', v, 64 * 1024, 2 ** 40)),
    journalSizeLimit: opt(o.journalSizeLimit, 8 * MiB, (v) => integer('options.journalSizeLimit', v, 0, 2 ** 40)),
    checkpointIntervalMs: opt(o.checkpointIntervalMs, 1000, (v) =>
      integer('options.checkpointIntervalMs', v, 10, 3_600_000),
    ),
    manageWal: opt(o.manageWal, true, (v) => boolean('options.manageWal', v)),
    readerNice: opt(o.readerNice, 5, (v) => integer('options.readerNice', v, 0, 19)),
  };
  return resolved;
}
