import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Writer, type WriterConfig } from '../src/sqlite/writer-thread.js';
import { tempDbPath } from './helpers/temp.js';

const config = (path: string): WriterConfig => ({
  path,
  synchronous: 'normal',
  busyTimeoutMs: 5000,
  journalSizeLimit: 1 << 20,
  walLimitBytes: 32 << 20,
  checkpointIntervalMs: 1000,
  manageWal: true,
});

describe('writer', () => {
  it('tells another connection’s commits from its own and its checkpoints’ (PRAGMA data_version)', () => {
    const path = tempDbPath();
    const writer = new Writer();
    expect(writer.open(config(path))).toEqual({ ok: true });
    // Nothing to compare with yet: the first answer is yes.
    expect(writer.foreignCommits()).toBe(true);
    expect(writer.foreignCommits()).toBe(false);
    writer.execute([['sessions.create', ['s1', 'app', 'alice', null, '{}', '{}', undefined]]]);
    expect(writer.foreignCommits()).toBe(false);
    const other = new Database(path);
    other.pragma('wal_checkpoint(PASSIVE)');
    expect(writer.foreignCommits()).toBe(false);
    other.prepare("UPDATE sessions SET user_id = 'bob' WHERE id = 's1'").run();
    expect(writer.foreignCommits()).toBe(true);
    expect(writer.foreignCommits()).toBe(false);
    other.close();
    writer.close();
  });

  it('opens, applies the schema, group-commits, checks and closes with an empty WAL', () => {
    const path = tempDbPath();
    const writer = new Writer();
    expect(writer.open(config(path))).toEqual({ ok: true });
    const { outcomes, walBytes } = writer.execute([
      ['sessions.create', ['s1', 'app', 'alice', null, '{}', '{}', undefined]],
      ['sessions.appendEvent', ['s1', '{"n":1}', null, '{"n":1}', 1 << 20, undefined]],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(walBytes).toBeGreaterThan(0);
    const report = writer.check();
    expect(report.ok).toBe(true);
    expect(report.indexesSatisfied).toBe(33);
    // With the plan of every statement the store runs.
    expect(report.plans?.length).toBeGreaterThan(50);
    writer.close();
    writer.close();
    expect(() => writer.execute([])).toThrow('writer is not open');
    // The last connection closed: the WAL is gone.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT id FROM sessions').pluck().all()).toEqual(['s1']);
    db.close();
  });

  it('truncates the WAL when it closes, even while another connection keeps it', () => {
    const path = tempDbPath();
    const writer = new Writer();
    expect(writer.open(config(path)).ok).toBe(true);
    writer.execute([['metrics.record', ['m', 1, null, undefined]]]);
    const reader = new Database(path, { readonly: true });
    reader.prepare('SELECT count(*) FROM metrics').get();
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    writer.close();
    expect(statSync(`${path}-wal`).size).toBe(0);
    reader.close();
  });

  it('manages the WAL as configured: a forced checkpoint past the limit, an idle one when quiet', async () => {
    const path = tempDbPath();
    const writer = new Writer();
    expect(writer.open({ ...config(path), walLimitBytes: 64 * 1024, checkpointIntervalMs: 20 }).ok).toBe(true);
    const labels = JSON.stringify({ pad: 'x'.repeat(2000) });
    // Creating the schema filled the WAL past 64 KiB: the first commit's answer says so, and
    // the forced checkpoint that runs once that answer has gone truncates it.
    expect(writer.execute([['metrics.record', ['m', 1, labels, undefined]]]).walBytes).toBeGreaterThan(64 * 1024);
    await new Promise((resolve) => setImmediate(resolve));
    const { walBytes } = writer.execute([['metrics.record', ['m', 2, labels, undefined]]]);
    expect(walBytes).toBeGreaterThan(0);
    expect(walBytes).toBeLessThan(64 * 1024);
    // Quiet for a few checkpoint intervals: the idle checkpoint truncates it.
    await sleep(200);
    expect(statSync(`${path}-wal`).size).toBe(0);
    writer.close();

    const unmanaged = new Writer();
    const other = tempDbPath();
    expect(unmanaged.open({ ...config(other), walLimitBytes: 64 * 1024, checkpointIntervalMs: 20, manageWal: false }).ok).toBe(true);
    expect(unmanaged.execute([['metrics.record', ['m', 1, labels, undefined]]]).walBytes).toBeGreaterThan(64 * 1024);
    await sleep(200);
    expect(statSync(`${other}-wal`).size).toBeGreaterThan(64 * 1024);
    unmanaged.close();
  });

  it('answers a failure to open as data, and refuses calls before it is open', () => {
    const writer = new Writer();
    const result = writer.open(config(tempDbPath('missing-dir/x/store.db')));
    expect(result).toMatchObject({ ok: false, error: { code: 'IO_ERROR', sqliteCode: 'SQLITE_CANTOPEN' } });
    expect(() => writer.execute([])).toThrow('writer is not open');
    expect(() => writer.check()).toThrow('writer is not open');
    writer.close();
  });

  it('closes the connection when the schema cannot be applied', () => {
    const path = tempDbPath();
    const first = new Writer();
    expect(first.open(config(path)).ok).toBe(true);
    first.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const second = new Writer();
    expect(second.open(config(path))).toMatchObject({ ok: false, error: { code: 'INVALID_STATE' } });
    expect(() => second.check()).toThrow('writer is not open');
  });
});
