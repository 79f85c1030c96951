import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWriterApi, WriterService, type WriterConfig } from '../src/sqlite/writer-thread.js';
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

describe('writer service', () => {
  it('opens, applies the schema, group-commits, checks and closes with an empty WAL', () => {
    const path = tempDbPath();
    const writer = WriterService.open(config(path));
    const { outcomes, walBytes } = writer.execute([
      ['sessions.create', ['s1', 'app', 'alice', null, '{}', '{}', undefined]],
      ['sessions.appendEvent', ['s1', '{"n":1}', null, '{"n":1}', 1 << 20, undefined]],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(walBytes).toBeGreaterThan(0);
    const report = writer.check();
    expect(report.ok).toBe(true);
    expect(writer.wal.checkpoint('PASSIVE').busy).toBe(0);
    writer.close();
    writer.close();
    expect(writer.db.open).toBe(false);
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
  });

  it('exposes failures to open as data, and refuses calls before it is open', () => {
    const api = createWriterApi();
    const result = api.open(config(tempDbPath('missing-dir/x/store.db')));
    expect(result).toMatchObject({ ok: false, error: { code: 'IO_ERROR', sqliteCode: 'SQLITE_CANTOPEN' } });
    expect(() => api.execute([])).toThrow('writer is not open');
    api.close();
  });

  it('serves execute and check through the API', () => {
    const api = createWriterApi();
    const path = tempDbPath();
    expect(api.open(config(path))).toEqual({ ok: true, walPath: `${path}-wal` });
    expect(api.execute([['sessions.create', ['s1', 'app', 'alice', null, '{}', '{}', undefined]]]).outcomes[0]?.ok).toBe(true);
    expect(api.check().indexesSatisfied).toBe(33);
    api.close();
  });

  it('closes the connection when the schema cannot be applied', () => {
    const path = tempDbPath();
    const first = WriterService.open(config(path));
    first.db.pragma('user_version = 99');
    first.close();
    expect(() => WriterService.open(config(path))).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });
});
