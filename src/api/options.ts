import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_FILE_MODE } from '../sqlite/files.js';
import { invalidArgument } from './errors.js';
import type { StoreOptions } from './types.js';
import { boolean, integer, isPlainObject, oneOf, options as knownOptions } from './validate.js';

export type { StoreOptions };

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
  'fileMode',
  'maxPayloadBytes',
  'maxStateBytes',
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

export function defaultReaders(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Checks `openStore`'s options once and fills in the defaults. */
export function resolveOptions(input: unknown): ResolvedOptions {
  if (!isPlainObject(input)) throw invalidArgument('openStore expects an options object like { path: "./data/store.db" }');
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
    fileMode: opt(o.fileMode, DEFAULT_FILE_MODE, fileMode),
    // SQLite's own ceiling on a string or blob is 1,000,000,000 bytes.
    maxPayloadBytes: opt(o.maxPayloadBytes, MiB, (v) => integer('options.maxPayloadBytes', v, 1024, 1_000_000_000)),
    maxStateBytes: opt(o.maxStateBytes, MiB, (v) => integer('options.maxStateBytes', v, 1024, 1_000_000_000)),
  };
  return resolved;
}
