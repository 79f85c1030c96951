import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultReaders, resolveOptions } from '../src/api/options.js';
import { openStore } from '../src/store.js';
import { tempDbPath } from './helpers/temp.js';

describe('openStore options', () => {
  it('rejects :memory: with INVALID_ARGUMENT: it cannot be shared across threads', async () => {
    await expect(openStore({ path: ':memory:' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('in-memory database cannot be shared'),
    });
    await expect(openStore({ path: 'file::memory:?cache=shared' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('fills in defaults', () => {
    const options = resolveOptions({ path: 'x.db' });
    expect(options).toMatchObject({
      readers: defaultReaders(),
      synchronous: 'normal',
      maxQueue: 10_000,
      busyTimeoutMs: 5000,
      manageWal: true,
      readerNice: 5,
      readerResourceLimits: {},
      maxPayloadBytes: 1024 * 1024,
      maxStateBytes: 1024 * 1024,
    });
    expect(options.path.endsWith('/x.db')).toBe(true);
    expect(defaultReaders()).toBeGreaterThanOrEqual(1);
    expect(defaultReaders()).toBeLessThanOrEqual(4);
  });

  it.each([
    [undefined, 'openStore expects an options object'],
    [{}, 'options.path must be the database file path'],
    [{ path: '' }, 'options.path must be the database file path'],
    [{ path: 'x.db', readers: 0 }, 'options.readers must be an integer from 1 to 64, got number 0'],
    [{ path: 'x.db', readers: 1.5 }, 'options.readers must be an integer'],
    [{ path: 'x.db', synchronous: 'off' }, 'options.synchronous must be one of normal, full'],
    [{ path: 'x.db', maxQueue: -1 }, 'options.maxQueue must be an integer'],
    [{ path: 'x.db', manageWal: 'yes' }, 'options.manageWal must be true or false'],
    [{ path: 'x.db', readerNice: 20 }, 'options.readerNice must be an integer from 0 to 19'],
    [{ path: 'x.db', readerResourceLimits: 64 }, 'options.readerResourceLimits must be an object, got number 64'],
    [{ path: 'x.db', readerResourceLimits: { maxOldGenerationSizeMB: 64 } }, 'misspelled option "maxOldGenerationSizeMB" should be "maxOldGenerationSizeMb"'],
    [{ path: 'x.db', readerResourceLimits: { heap: 64 } }, 'options.readerResourceLimits has an unknown option "heap"'],
    [{ path: 'x.db', readerResourceLimits: { maxOldGenerationSizeMb: '64' } }, 'options.readerResourceLimits.maxOldGenerationSizeMb must be a finite number ≥ 1, got "64"'],
    [{ path: 'x.db', readerResourceLimits: { stackSizeMb: 0.1 } }, 'options.readerResourceLimits.stackSizeMb must be a finite number ≥ 1, got number 0.1'],
    [{ path: 'x.db', readerResourceLimits: { stackSizeMb: 2048 } }, 'options.readerResourceLimits.stackSizeMb must be at most 1024 (megabytes), got 2048'],
    [{ path: 'x.db', maxPayloadBytes: 1000 }, 'options.maxPayloadBytes must be an integer from 1024 to 1000000000, got number 1000'],
    [{ path: 'x.db', maxStateBytes: 2e9 }, 'options.maxStateBytes must be an integer from 1024 to 1000000000'],
    [{ path: 'x.db', Readers: 2 }, 'misspelled option "Readers" should be "readers"'],
    [{ path: 'x.db', threads: 2 }, 'unknown option "threads"'],
  ])('rejects %j', async (options, message) => {
    await expect(openStore(options as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(message),
    });
  });

  it('takes reader resource limits in megabytes, keeping only those given', () => {
    expect(resolveOptions({ path: 'x.db', readerResourceLimits: { maxOldGenerationSizeMb: 96, stackSizeMb: 2.5 } }).readerResourceLimits).toEqual({
      maxOldGenerationSizeMb: 96,
      stackSizeMb: 2.5,
    });
  });

  it('refuses reader resource limits on a PostgreSQL store, which has no reader threads', async () => {
    await expect(openStore({ url: 'postgres://u@h/db', readerResourceLimits: {} })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'options.readerResourceLimits applies to the SQLite engine only; a store on options.url does not take it',
    });
  });

  it('rejects an unusable path with a typed error naming the file', async () => {
    // A missing directory is made (openStore creates it); one that is a file cannot be.
    const file = tempDbPath('a-file');
    writeFileSync(file, '');
    const path = join(file, 'store.db');
    await expect(openStore({ path })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(path) });
  });
});
