import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
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
  it('opens, applies the schema, group-commits, checks and closes with an empty WAL', () => {
    const path = tempDbPath();
    const writer = new Writer();
    expect(writer.open(config(path))).toEqual({ ok: true });
    const { outcomes, walBytes } = writer.execute([
      ['sessions.create', ['s1', 'app', 'alice', null, '{}', '{}', undefined]],
      ['sessions.appendEvent', ['s1', '{"n":1}', '{"n":1}', undefined]],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(walBytes).toBeGreaterThan(0);
    const report = writer.check();
    expect(report.ok).toBe(true);
    expect(report.indexesSatisfied).toBe(33);
    writer.close();
    writer.close();
    expect(() => writer.execute([])).toThrow('writer is not open');
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT id FROM sessions').pluck().all()).toEqual(['s1']);
    db.close();
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
