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
  /** Period of the writer's idle checkpoint, longest back-off between forced ones, and longest gap between the checkpointer's passes while writes trickle. Default 1000. */
  checkpointIntervalMs?: number;
  /** False leaves checkpoints to SQLite's own passive auto-checkpoint alone, in the writer's commits, with no checkpointer thread. Default true. */
  manageWal?: boolean;
  /**
   * Added to the reader threads' nice value on Linux (0 to 19; elsewhere ignored). When
   * readers and the caller's thread want more CPU than there is, the caller's event loop
   * wins, which keeps its delay low. Default 5.
   */
  readerNice?: number;
}

export type ResolvedOptions = Required<StoreOptions>;

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
  if (!isPlainObject(input)) throw invalidArgument('openStore expects an options object like { path: "./data/store.db" }');
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
