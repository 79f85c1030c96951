import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { createDirectoryFor, directoryModeFor } from '../src/sqlite/files.js';
import { openTestStore } from './helpers/store.js';
import { tempDir } from './helpers/temp.js';

// The README's first example opens './data/abathur.db' in a fresh project: openStore makes
// the missing directory, private like the file it will hold.

const modeOf = (path: string): string => `0o${(statSync(path).mode & 0o777).toString(8)}`;

/** Runs `fn` under another umask, restoring the process's own after. */
function withUmask<T>(mask: number, fn: () => T): T {
  const previous = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}

describe('a missing directory', () => {
  it('openStore creates it and its missing parents owner-only (0700), and the store works there', async () => {
    const root = tempDir();
    const path = join(root, 'data', 'nested', 'abathur.db');
    const store = await openTestStore({ path, readers: 1 });
    await store.sessions.create({ appName: 'a', userId: 'u' });
    expect({ data: modeOf(join(root, 'data')), nested: modeOf(join(root, 'data', 'nested')), file: modeOf(path) }).toEqual({
      data: '0o700',
      nested: '0o700',
      file: '0o600',
    });
  });

  it('the directory follows fileMode: whoever may read the file may reach it, only the owner may add files', async () => {
    const root = tempDir();
    await openTestStore({ path: join(root, 'group', 'store.db'), readers: 1, fileMode: 0o640 });
    await openTestStore({ path: join(root, 'everyone', 'store.db'), readers: 1, fileMode: 0o666 });
    expect(modeOf(join(root, 'group'))).toBe('0o750');
    expect(modeOf(join(root, 'everyone'))).toBe('0o755');
  });

  it('the umask neither narrows nor widens the mode', () => {
    const root = tempDir();
    withUmask(0o277, () => createDirectoryFor(join(root, 'narrow', 'deeper', 'x.db')));
    withUmask(0o000, () => createDirectoryFor(join(root, 'wide', 'x.db')));
    expect([modeOf(join(root, 'narrow')), modeOf(join(root, 'narrow', 'deeper')), modeOf(join(root, 'wide'))]).toEqual(['0o700', '0o700', '0o700']);
  });

  it('a directory that exists keeps its own mode', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'shared'));
    chmodSync(join(root, 'shared'), 0o755);
    await openTestStore({ path: join(root, 'shared', 'store.db'), readers: 1 });
    expect(modeOf(join(root, 'shared'))).toBe('0o755');
  });

  it('a file in the way is IO_ERROR naming the directory, and nothing is created', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'data'), 'not a directory');
    await expect(openTestStore({ path: join(root, 'data', 'sub', 'store.db') })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(join(root, 'data', 'sub')),
    });
    expect(statSync(join(root, 'data')).isFile()).toBe(true);
  });

  it('backup makes its destination’s directory the same way', async () => {
    const root = tempDir();
    const store = await openTestStore({ readers: 1 });
    const target = join(root, 'backups', 'nightly', 'abathur.db');
    await store.backup(target);
    expect([modeOf(join(root, 'backups')), modeOf(join(root, 'backups', 'nightly')), modeOf(target)]).toEqual(['0o700', '0o700', '0o600']);
  });

  it('abathur-store init makes its directory the same way', async () => {
    const root = tempDir();
    const path = join(root, 'cli', 'deeper', 'store.db');
    expect(await main(['init', path], { out: () => {}, err: () => {} })).toBe(0);
    expect([modeOf(join(root, 'cli')), modeOf(join(root, 'cli', 'deeper')), modeOf(path)]).toEqual(['0o700', '0o700', '0o600']);
    expect(existsSync(path)).toBe(true);
  });

  it('directoryModeFor: owner rwx, read and search for those the file lets read, write for nobody else', () => {
    expect([0o600, 0o640, 0o604, 0o644, 0o660, 0o666, 0o700].map((mode) => directoryModeFor(mode).toString(8))).toEqual([
      '700',
      '750',
      '705',
      '755',
      '750',
      '755',
      '700',
    ]);
  });
});
