import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { openTestStore } from './helpers/store.js';
import { tempDir, tempDbPath } from './helpers/temp.js';
import { openStore } from '../src/store.js';
import { createFileWithMode } from '../src/sqlite/files.js';

// The store holds agents' memory and users' data: what it creates is private unless asked.

const modeOf = (path: string): number => statSync(path).mode & 0o777;
const octal = (mode: number): string => `0o${mode.toString(8)}`;

async function modesOfAStore(fileMode?: number): Promise<Record<string, string>> {
  const store = await openTestStore({ readers: 1, ...(fileMode === undefined ? {} : { fileMode }) });
  await store.memory.add({ namespace: 'user:alice', key: 'k', value: 1, type: 'semantic' });
  const backup = join(tempDir(), 'backup.db');
  await store.backup(backup);
  const files = [store.path, `${store.path}-wal`, `${store.path}-shm`, backup];
  for (const file of files) expect(existsSync(file), file).toBe(true);
  return Object.fromEntries(files.map((file, i) => [['db', 'wal', 'shm', 'backup'][i]!, octal(modeOf(file))]));
}

describe('file modes', () => {
  it('a new database, its -wal and -shm, and a backup are owner-only (0600) by default', async () => {
    expect(await modesOfAStore()).toEqual({ db: '0o600', wal: '0o600', shm: '0o600', backup: '0o600' });
  });

  it('fileMode widens them, exactly: the umask neither narrows nor widens it', async () => {
    expect(await modesOfAStore(0o640)).toEqual({ db: '0o640', wal: '0o640', shm: '0o640', backup: '0o640' });
    // 0o666 has the group and other write bits a usual umask (022) would strip.
    expect(await modesOfAStore(0o666)).toEqual({ db: '0o666', wal: '0o666', shm: '0o666', backup: '0o666' });
  });

  it('an existing database keeps its own mode', async () => {
    const path = tempDbPath();
    closeSync(openSync(path, 'w', 0o644));
    const store = await openTestStore({ path, readers: 1 });
    await store.memory.add({ namespace: 'user:alice', key: 'k', value: 1, type: 'semantic' });
    expect(octal(modeOf(path))).toBe('0o644');
  });

  it('the command line creates the database owner-only too', async () => {
    const path = join(tempDir(), 'cli.db');
    const code = await main(['init', path], { out: () => {}, err: () => {} });
    expect(code).toBe(0);
    expect(octal(modeOf(path))).toBe('0o600');
  });

  it('createFileWithMode: exactly the mode asked for; an existing file is CONFLICT, a missing directory IO_ERROR', () => {
    const dir = tempDir();
    createFileWithMode(join(dir, 'a'), 0o660);
    expect(octal(modeOf(join(dir, 'a')))).toBe('0o660');
    expect(() => createFileWithMode(join(dir, 'a'), 0o600)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(octal(modeOf(join(dir, 'a')))).toBe('0o660');
    expect(() => createFileWithMode(join(dir, 'missing', 'b'), 0o600)).toThrow(
      expect.objectContaining({ code: 'IO_ERROR', cause: expect.objectContaining({ code: 'ENOENT' }) }),
    );
  });

  it('refuses a fileMode that would lock the store out of its own files, or is not a mode', async () => {
    for (const fileMode of [0o400, 0o200, 0o1600, -1, 1.5, '0600']) {
      await expect(openStore({ path: tempDbPath(), fileMode: fileMode as number })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('options.fileMode'),
      });
    }
  });
});
