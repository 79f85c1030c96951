import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { invalidArgument } from './errors.js';
import type { PostgresStoreOptions, ReaderResourceLimits, StoreOptions } from './types.js';
import { boolean, finiteNumber, integer, isPlainObject, oneOf, options as knownOptions } from './validate.js';

/** Owner read and write only: the store holds agents' memory and users' data. */
export const DEFAULT_FILE_MODE = 0o600;

export type { PostgresStoreOptions, StoreOptions };

export type ResolvedOptions = Required<StoreOptions>;

export interface ResolvedPostgresOptions {
  url: string;
  /** The URL without its password, for messages and reports. */
  location: string;
  pool: { max: number; connectionTimeoutMs: number; idleTimeoutMs: number };
  maxQueue: number;
  statementTimeoutMs: number;
  schema: string;
  maxPayloadBytes: number;
  maxStateBytes: number;
  telemetry: boolean;
}

const POSTGRES_KNOWN = ['url', 'pool', 'maxQueue', 'statementTimeoutMs', 'schema', 'maxPayloadBytes', 'maxStateBytes', 'telemetry'] as const;

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
  const shared: readonly string[] = ['path', 'maxQueue', 'maxPayloadBytes', 'maxStateBytes', 'telemetry'];
  const sqliteOnly = KNOWN.find((key) => !shared.includes(key) && key in input);
  if (sqliteOnly !== undefined) {
    throw invalidArgument(`options.${sqliteOnly} applies to the SQLite engine only; a store on options.url does not take it`);
  }
  const o = knownOptions('openStore options', input, POSTGRES_KNOWN, { call: false });
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
  const pool = knownOptions('options.pool', o.pool, ['max', 'connectionTimeoutMs', 'idleTimeoutMs'] as const, { call: false });
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
    // PostgreSQL's own ceiling on one jsonb or text value is 1 GB less its header.
    maxPayloadBytes: opt(o.maxPayloadBytes, MiB, (v) => integer('options.maxPayloadBytes', v, 1024, 1_000_000_000)),
    maxStateBytes: opt(o.maxStateBytes, MiB, (v) => integer('options.maxStateBytes', v, 1024, 1_000_000_000)),
    telemetry: opt(o.telemetry, true, (v) => boolean('options.telemetry', v)),
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
  'readerResourceLimits',
  'fileMode',
  'maxPayloadBytes',
  'maxStateBytes',
  'telemetry',
] as const;

const MiB = 1024 * 1024;

/** Permission bits for the files the store creates; the owner must keep read and write. */
export function fileMode(value: unknown): number {
  const mode = integer('options.fileMode', value, 0, 0o777);
  if ((mode & 0o600) !== 0o600) {
    throw invalidArgument(
      `options.fileMode must keep the owner's read and write bits (0o600), got 0o${mode.toString(8)}: the store must read and write its own files`,
    );
  }
  return mode;
}

/** Each limit's range, in megabytes. A stack under 1 MB kills the whole process, not just the thread. */
const RESOURCE_LIMITS = {
  maxOldGenerationSizeMb: [1, 2 ** 20],
  maxYoungGenerationSizeMb: [1, 2 ** 20],
  codeRangeSizeMb: [1, 2 ** 20],
  stackSizeMb: [1, 1024],
} as const satisfies Record<keyof ReaderResourceLimits, readonly [number, number]>;

/** The reader threads' limits: known keys only, each a number of megabytes in its range. */
export function readerResourceLimits(value: unknown): ReaderResourceLimits {
  const keys = Object.keys(RESOURCE_LIMITS) as (keyof ReaderResourceLimits)[];
  const given = knownOptions('options.readerResourceLimits', value, keys, { call: false });
  const limits: ReaderResourceLimits = {};
  for (const key of keys) {
    if (given[key] === undefined) continue;
    const [min, max] = RESOURCE_LIMITS[key];
    const mb = finiteNumber(`options.readerResourceLimits.${key}`, given[key], min);
    if (mb > max) throw invalidArgument(`options.readerResourceLimits.${key} must be at most ${max} (megabytes), got ${mb}`);
    limits[key] = mb;
  }
  return limits;
}

export function defaultReaders(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Checks `openStore`'s options once and fills in the defaults. */
export function resolveOptions(input: unknown): ResolvedOptions {
  if (!isPlainObject(input)) {
    throw invalidArgument('openStore expects an options object like { path: "./data/store.db" } or { url: "postgres://…" }');
  }
  const o = knownOptions('openStore options', input, KNOWN, { call: false });
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
    readerResourceLimits: opt(o.readerResourceLimits, {}, readerResourceLimits),
    fileMode: opt(o.fileMode, DEFAULT_FILE_MODE, fileMode),
    // SQLite's own ceiling on a string or blob is 1,000,000,000 bytes.
    maxPayloadBytes: opt(o.maxPayloadBytes, MiB, (v) => integer('options.maxPayloadBytes', v, 1024, 1_000_000_000)),
    maxStateBytes: opt(o.maxStateBytes, MiB, (v) => integer('options.maxStateBytes', v, 1024, 1_000_000_000)),
    telemetry: opt(o.telemetry, true, (v) => boolean('options.telemetry', v)),
  };
  return resolved;
}
