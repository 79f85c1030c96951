import Database from 'better-sqlite3';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../src/store.js';
import { openTestStore, settleAll, sqliteEngineOf } from './helpers/store.js';
import { tempDir } from './helpers/temp.js';

// store.backup on real threads: a copy made on a connection of its own, under a temporary
// name in the destination's directory, given its name only once whole.

/** Rows enough that a copy takes a while: about 24 MB of metrics, written straight into the file. */
function fill(store: Store): void {
  const db = new Database(store.path);
  try {
    db.prepare(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) ' +
        "INSERT INTO metrics (metric_name, metric_value, labels) SELECT 'm', i, json_object('pad', printf('%.1200c', 'x')) FROM n",
    ).run();
  } finally {
    db.close();
  }
}

function isWholeDatabase(path: string): boolean {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) === 'ok' && db.prepare('SELECT count(*) FROM metrics').pluck().get() === 20000;
  } finally {
    db.close();
  }
}

/** Resolves once a file in `dir` has bytes in it: a copy is under way. */
async function copyUnderWay(dir: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (readdirSync(dir).some((name) => statSync(join(dir, name)).size > 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('no copy ever started');
}

describe('store.backup', () => {
  it('runs on a connection of its own: a read issued with it is not held behind the copy', async () => {
    const store = await openTestStore({ readers: 1 });
    fill(store);
    const settled: string[] = [];
    const backup = store.backup(join(tempDir(), 'copy.db')).then(() => settled.push('backup'));
    const read = store.metrics.query({ name: 'm', limit: 1 }).then(() => settled.push('read'));
    await Promise.all([backup, read]);
    expect(settled).toEqual(['read', 'backup']);
  });

  it('is not harmed by readers dying while it copies: the copy is whole, nothing else is left', async () => {
    const store = await openTestStore({ readers: 2 });
    fill(store);
    const dir = tempDir();
    const destination = join(dir, 'copy.db');
    const backup = store.backup(destination);
    await copyUnderWay(dir);
    await Promise.all(sqliteEngineOf(store).threads.readers.map((reader) => reader.terminate()));
    const result = await backup;
    expect(result).toEqual({ path: destination, bytes: statSync(destination).size });
    expect(isWholeDatabase(destination)).toBe(true);
    expect(readdirSync(dir)).toEqual(['copy.db']);
  });

  it('gives two backups to one path at once one winner; the other is refused CONFLICT and leaves nothing', async () => {
    const store = await openTestStore();
    fill(store);
    const dir = tempDir();
    const destination = join(dir, 'copy.db');
    const { values, errors } = await settleAll([store.backup(destination), store.backup(destination)]);
    expect(values).toEqual([{ path: destination, bytes: statSync(destination).size }]);
    expect(errors).toMatchObject([{ code: 'CONFLICT', message: expect.stringContaining(destination) }]);
    expect(isWholeDatabase(destination)).toBe(true);
    expect(readdirSync(dir)).toEqual(['copy.db']);
  });

  it('is waited for by close(): a backup accepted before close completes', async () => {
    const store = await openTestStore();
    fill(store);
    const destination = join(tempDir(), 'copy.db');
    const backup = store.backup(destination);
    await store.close();
    expect(existsSync(destination)).toBe(true);
    await expect(backup).resolves.toMatchObject({ path: destination });
    expect(isWholeDatabase(destination)).toBe(true);
    await expect(store.backup(join(tempDir(), 'late.db'))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
