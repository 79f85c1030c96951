import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openReaderConnection, type Connection } from '../src/sqlite/connection.js';
import { WalManager, type WalPolicy } from '../src/sqlite/wal-manager.js';
import { freshDatabase } from './helpers/database.js';

const policy = (overrides: Partial<WalPolicy> = {}): WalPolicy => ({
  manage: true,
  limitBytes: 256 * 1024,
  intervalMs: 1000,
  forcedWaitMs: 20,
  maxForcedWaitMs: 50,
  restartWaitMs: 0,
  busyTimeoutMs: 5000,
  ...overrides,
});

const walSize = (db: Connection): number => (existsSync(`${db.name}-wal`) ? statSync(`${db.name}-wal`).size : 0);

/** Writes about `kib` KiB through the writer, in small transactions. */
function write(db: Connection, kib: number): void {
  const insert = db.prepare("INSERT INTO metrics (metric_name, metric_value, labels) VALUES ('m', 1, ?)");
  const blob = JSON.stringify({ pad: 'x'.repeat(1000) });
  for (let i = 0; i < kib; i += 16) db.transaction(() => { for (let j = 0; j < 16; j++) insert.run(blob); })();
}

/** A reader holding an old snapshot: passive checkpoints cannot reset the WAL past it. */
function starvingReader(db: Connection): Connection {
  const reader = openReaderConnection(db.name, 1000);
  reader.prepare('BEGIN').run();
  reader.prepare('SELECT count(*) FROM metrics').get();
  return reader;
}

describe('WAL manager', () => {
  it('forces a TRUNCATE checkpoint once the WAL passes its limit', () => {
    const db = freshDatabase();
    const wal = new WalManager(db, policy());
    db.pragma('wal_autocheckpoint = 0');
    write(db, 1024);
    expect(walSize(db)).toBeGreaterThan(256 * 1024);
    expect(wal.afterCommit(10_000)).toBe(0);
    expect(wal.forcedCheckpoints).toBe(1);
    expect(wal.peakBytes).toBeGreaterThan(256 * 1024);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('waits only briefly for a reader that holds the WAL, and retries after as long again, waiting twice as long', () => {
    const db = freshDatabase();
    const wal = new WalManager(db, policy());
    const reader = starvingReader(db);
    write(db, 1024);
    const held = walSize(db);
    expect(wal.afterCommit(10_000)).toBe(held);
    expect(wal.forcedCheckpoints).toBe(1);
    expect(wal.forcedWaitMs).toBe(40);
    // The writer runs for as long as the try waited (20 ms) before the next try.
    expect(wal.afterCommit(10_015)).toBe(held);
    expect(wal.forcedCheckpoints).toBe(1);
    expect(wal.afterCommit(10_025)).toBe(held);
    expect(wal.forcedCheckpoints).toBe(2);
    // Doubled again, up to the policy's ceiling.
    expect(wal.forcedWaitMs).toBe(50);
    expect(wal.afterCommit(10_060)).toBe(held);
    expect(wal.forcedCheckpoints).toBe(2);
    reader.prepare('COMMIT').run();
    reader.close();
    expect(wal.afterCommit(11_000)).toBe(0);
    expect(wal.forcedCheckpoints).toBe(3);
    expect(wal.forcedWaitMs).toBe(20);
  });

  it('leaves the writer connection without SQLite\'s auto-checkpoint when it manages the WAL', () => {
    const managed = freshDatabase();
    new WalManager(managed, policy());
    expect(managed.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const unmanaged = freshDatabase();
    new WalManager(unmanaged, policy({ manage: false }));
    expect(unmanaged.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('leaves everything to SQLite when management is off: a held WAL keeps growing', () => {
    const db = freshDatabase();
    const wal = new WalManager(db, policy({ manage: false }));
    const reader = starvingReader(db);
    write(db, 512);
    const first = wal.afterCommit(10_000);
    write(db, 512);
    expect(wal.afterCommit(20_000)).toBeGreaterThan(first);
    expect(wal.forcedCheckpoints).toBe(0);
    wal.idle(40_000);
    expect(walSize(db)).toBeGreaterThan(first);
    reader.close();
  });

  it('truncates the WAL once the writer has been idle for a period', () => {
    const db = freshDatabase();
    const wal = new WalManager(db, policy({ limitBytes: 64 << 20 }));
    write(db, 64);
    expect(wal.afterCommit(10_000)).toBeGreaterThan(0);
    wal.idle(10_500);
    expect(walSize(db)).toBeGreaterThan(0);
    wal.idle(11_000);
    expect(walSize(db)).toBe(0);
  });

  it('reports checkpoint results', () => {
    const db = freshDatabase();
    const wal = new WalManager(db, policy());
    write(db, 32);
    const result = wal.checkpoint('PASSIVE');
    expect(result.busy).toBe(0);
    expect(result.checkpointed).toBe(result.log);
  });
});
