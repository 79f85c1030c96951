import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { copySnapshot, publish, snapshotOutcome, tempPathFor, type PublishCalls, type SnapshotJob } from '../src/sqlite/backup-file.js';
import { Backups, type SnapshotRunner } from '../src/sqlite/backups.js';
import { tempDir } from './helpers/temp.js';

// The backup's parts in-process: the copy (copySnapshot, which the backup thread runs),
// the naming (publish), and the queue that runs them (Backups), with runners that copy
// here, stall, or die half-way as a thread can.

/** A WAL database with rows, its writer still open (as a store's is). */
function source(rows = 200): { path: string; db: Database.Database } {
  const path = join(tempDir(), 'store.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (text) VALUES (?)');
  for (let i = 0; i < rows; i++) insert.run(`row ${i} ${'x'.repeat(100)}`);
  return { path, db };
}

const rowsOf = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM t').pluck().get() as number;
  } finally {
    db.close();
  }
};

const modeOf = (path: string): number => statSync(path).mode & 0o777;

const config = (path: string, maxQueue = 100) => ({ path, fileMode: 0o640, busyTimeoutMs: 1000, maxQueue });

/** Copies in-process, as the thread would. */
const copyHere: SnapshotRunner = async (job) => copySnapshot(job);

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('copySnapshot', () => {
  it('copies one snapshot into a new file with the store’s mode, on a connection of its own', () => {
    const { path } = source();
    const temp = join(tempDir(), '.copy.db.tmp');
    copySnapshot({ source: path, temp, mode: 0o640, busyTimeoutMs: 1000 });
    expect(rowsOf(temp)).toBe(200);
    expect(modeOf(temp)).toBe(0o640);
  });

  it('removes its file when the copy fails, and reports the failure as data for the thread to send', () => {
    const dir = tempDir();
    const notADatabase = join(dir, 'random.db');
    writeFileSync(notADatabase, 'this is not a database, only text that is long enough to be read as a header'.repeat(20));
    const job: SnapshotJob = { source: notADatabase, temp: join(dir, '.copy.tmp'), mode: 0o600, busyTimeoutMs: 1000 };
    expect(() => copySnapshot(job)).toThrow();
    expect(readdirSync(dir)).toEqual(['random.db']);
    expect(snapshotOutcome(job)).toMatchObject({ ok: false, error: { code: 'CORRUPT', sqliteCode: 'SQLITE_NOTADB' } });
    expect(readdirSync(dir)).toEqual(['random.db']);
    const { path } = source();
    expect(snapshotOutcome({ ...job, source: path })).toEqual({ ok: true });
  });

  it('never overwrites a file that holds its temporary name', () => {
    const { path } = source();
    const temp = join(tempDir(), '.taken.tmp');
    writeFileSync(temp, 'someone else’s');
    expect(() => copySnapshot({ source: path, temp, mode: 0o600, busyTimeoutMs: 1000 })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(readFileSync(temp, 'utf8')).toBe('someone else’s');
  });
});

describe('tempPathFor', () => {
  it('names a hidden file beside the destination, a new one each time', () => {
    const destination = '/backups/nightly.db';
    const names = [tempPathFor(destination), tempPathFor(destination)];
    for (const name of names) {
      expect(dirname(name)).toBe('/backups');
      expect(basename(name)).toMatch(/^\.nightly\.db\.[0-9a-f]{12}\.tmp$/);
    }
    expect(names[0]).not.toBe(names[1]);
  });
});

describe('publish', () => {
  it('gives the whole copy its name and drops the temporary one; the mode stays', () => {
    const { path } = source();
    const dir = tempDir();
    const temp = join(dir, '.copy.db.tmp');
    copySnapshot({ source: path, temp, mode: 0o640, busyTimeoutMs: 1000 });
    publish(temp, join(dir, 'copy.db'));
    expect(readdirSync(dir)).toEqual(['copy.db']);
    expect(rowsOf(join(dir, 'copy.db'))).toBe(200);
    expect(modeOf(join(dir, 'copy.db'))).toBe(0o640);
  });

  it('refuses a name another backup or process took meanwhile: CONFLICT, that file untouched, the copy removed', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.copy.tmp'), 'mine');
    writeFileSync(join(dir, 'copy.db'), 'theirs');
    expect(() => publish(join(dir, '.copy.tmp'), join(dir, 'copy.db'))).toThrow(
      expect.objectContaining({ code: 'CONFLICT', message: expect.stringContaining('already exists') }),
    );
    expect(readdirSync(dir)).toEqual(['copy.db']);
    expect(readFileSync(join(dir, 'copy.db'), 'utf8')).toBe('theirs');
  });

  it('renames where the file system has no hard links, still refusing a taken name', () => {
    const dir = tempDir();
    const noLinks: PublishCalls = {
      link: () => {
        throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
      },
      rename: (from, to) => writeFileSync(to, readFileSync(from)),
      exists: existsSync,
    };
    writeFileSync(join(dir, '.a.tmp'), 'copy a');
    publish(join(dir, '.a.tmp'), join(dir, 'a.db'), noLinks);
    expect(readdirSync(dir)).toEqual(['a.db']);
    expect(readFileSync(join(dir, 'a.db'), 'utf8')).toBe('copy a');
    writeFileSync(join(dir, '.b.tmp'), 'copy b');
    expect(() => publish(join(dir, '.b.tmp'), join(dir, 'a.db'), noLinks)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(readdirSync(dir)).toEqual(['a.db']);
    expect(readFileSync(join(dir, 'a.db'), 'utf8')).toBe('copy a');
  });

  it('reports any other failure to name it as IO_ERROR, and removes the copy', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.c.tmp'), 'copy');
    const failing: PublishCalls = {
      link: () => {
        throw Object.assign(new Error('input/output error'), { code: 'EIO' });
      },
      rename: () => {
        throw new Error('not called');
      },
      exists: () => false,
    };
    expect(() => publish(join(dir, '.c.tmp'), join(dir, 'c.db'), failing)).toThrow(
      expect.objectContaining({ code: 'IO_ERROR', message: expect.stringContaining('input/output error') }),
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('Backups', () => {
  it('makes the copy and names it: the result, the mode, nothing else in the directory', async () => {
    const { path } = source();
    const dir = tempDir();
    const backups = new Backups(config(path), copyHere);
    const destination = join(dir, 'copy.db');
    const result = await backups.backup(destination);
    expect(result).toEqual({ path: destination, bytes: statSync(destination).size });
    expect(rowsOf(destination)).toBe(200);
    expect(modeOf(destination)).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['copy.db']);
  });

  it('leaves nothing behind when the copying thread dies half-way, and a retry to the same path succeeds', async () => {
    const { path } = source();
    const dir = tempDir();
    const dies: SnapshotRunner = async (job) => {
      writeFileSync(job.temp, 'half a copy');
      throw new StoreError('WORKER_CRASHED', 'backup thread exited with code 1 before the copy was whole');
    };
    const destination = join(dir, 'copy.db');
    await expect(new Backups(config(path), dies).backup(destination)).rejects.toMatchObject({ code: 'WORKER_CRASHED' });
    expect(readdirSync(dir)).toEqual([]);
    await expect(new Backups(config(path), copyHere).backup(destination)).resolves.toMatchObject({ path: destination });
    expect(rowsOf(destination)).toBe(200);
  });

  it('runs one backup at a time, in the order they came', async () => {
    const { path } = source();
    const dir = tempDir();
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const gates = [deferred(), deferred()];
    const slow: SnapshotRunner = async (job) => {
      started.push(basename(job.temp).split('.')[1]!);
      most = Math.max(most, ++running);
      await gates[started.length - 1]!.promise;
      copySnapshot(job);
      running--;
    };
    const backups = new Backups(config(path), slow);
    const first = backups.backup(join(dir, 'first.db'));
    const second = backups.backup(join(dir, 'second.db'));
    expect(backups.queueDepth).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['first']);
    gates[0]!.resolve();
    await first;
    gates[1]!.resolve();
    await second;
    expect(started).toEqual(['first', 'second']);
    expect(most).toBe(1);
    expect(backups.queueDepth).toBe(0);
  });

  it('refuses a destination that exists at once, and one taken during the copy once it is done', async () => {
    const { path } = source();
    const dir = tempDir();
    writeFileSync(join(dir, 'taken.db'), 'theirs');
    let copies = 0;
    const backups = new Backups(config(path), async (job) => {
      copies++;
      copySnapshot(job);
      // Another process takes the name while this copy is being made.
      writeFileSync(join(dir, 'late.db'), 'theirs too');
    });
    await expect(backups.backup(join(dir, 'taken.db'))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(copies).toBe(0);
    await expect(backups.backup(join(dir, 'late.db'))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(copies).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['late.db', 'taken.db']);
    expect(readFileSync(join(dir, 'late.db'), 'utf8')).toBe('theirs too');
  });

  it('withdraws a backup still waiting when its signal aborts; one already copying runs to the end', async () => {
    const { path } = source();
    const dir = tempDir();
    const gate = deferred();
    const copied: string[] = [];
    const backups = new Backups(config(path), async (job) => {
      await gate.promise;
      copySnapshot(job);
      copied.push(basename(job.temp).split('.')[1]!);
    });
    const running = new AbortController();
    const waiting = new AbortController();
    const first = backups.backup(join(dir, 'first.db'), running.signal);
    const second = backups.backup(join(dir, 'second.db'), waiting.signal);
    await new Promise((resolve) => setImmediate(resolve));
    running.abort();
    waiting.abort(new Error('caller gave up'));
    await expect(second).rejects.toMatchObject({ code: 'ABORTED', message: 'backup was aborted before it ran' });
    gate.resolve();
    await expect(first).resolves.toMatchObject({ path: join(dir, 'first.db') });
    expect(copied).toEqual(['first']);
    expect(readdirSync(dir)).toEqual(['first.db']);
    await expect(backups.backup(join(dir, 'third.db'), AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses past maxQueue with OVERLOADED; close() lets the accepted ones finish, then refuses CLOSED', async () => {
    const { path } = source();
    const dir = tempDir();
    const gate = deferred();
    const backups = new Backups(config(path, 2), async (job) => {
      await gate.promise;
      copySnapshot(job);
    });
    const accepted = [backups.backup(join(dir, 'a.db')), backups.backup(join(dir, 'b.db'))];
    await expect(backups.backup(join(dir, 'c.db'))).rejects.toMatchObject({ code: 'OVERLOADED' });
    const closed = backups.close();
    await expect(backups.backup(join(dir, 'd.db'))).rejects.toMatchObject({ code: 'CLOSED' });
    gate.resolve();
    await closed;
    await expect(Promise.all(accepted)).resolves.toHaveLength(2);
    expect(readdirSync(dir).sort()).toEqual(['a.db', 'b.db']);
  });

  it('turns a runner’s plain failure into a StoreError', async () => {
    const { path } = source();
    const backups = new Backups(config(path), async () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    await expect(backups.backup(join(tempDir(), 'full.db'))).rejects.toMatchObject({ code: 'IO_ERROR', sqliteCode: 'SQLITE_FULL' });
  });
});
