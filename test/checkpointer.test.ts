import { existsSync, statSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Checkpointer, runCheckpointer, type CheckpointerConfig, type StartCheckpointer } from '../src/sqlite/checkpointer.js';
import { openWriterConnection, type Connection } from '../src/sqlite/connection.js';
import { WalManager } from '../src/sqlite/wal-manager.js';
import { Writer, type WriterConfig } from '../src/sqlite/writer-thread.js';
import { freshDatabase } from './helpers/database.js';
import { cleanup, tempDbPath } from './helpers/temp.js';

const walSize = (db: Connection): number => (existsSync(`${db.name}-wal`) ? statSync(`${db.name}-wal`).size : 0);

/** The writer's connection as the writer leaves it: its WAL managed, SQLite's auto-checkpoint off. */
function managedWriter(): Connection {
  const db = freshDatabase();
  new WalManager(db, { manage: true, limitBytes: 64 << 20, intervalMs: 1000, forcedWaitMs: 20, maxForcedWaitMs: 50, restartWaitMs: 0, busyTimeoutMs: 5000 });
  return db;
}

const flag = (): Int32Array => new Int32Array(new SharedArrayBuffer(4));

/** Writes about `kib` KiB in transactions of 16 KiB. */
function write(db: Connection, kib: number): void {
  const insert = db.prepare("INSERT INTO metrics (metric_name, metric_value, labels) VALUES ('m', 1, ?)");
  const blob = JSON.stringify({ pad: 'x'.repeat(1000) });
  for (let i = 0; i < kib; i += 16) db.transaction(() => { for (let j = 0; j < 16; j++) insert.run(blob); })();
}

function helperConnection(db: Connection): Connection {
  const helper = openWriterConnection(db.name, { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: -1 });
  cleanup(() => {
    if (helper.open) helper.close();
  });
  return helper;
}

describe('checkpointer', () => {
  it('copies the WAL back on its own connection, after which the writer starts the WAL over instead of growing it', () => {
    const db = managedWriter();
    const checkpointer = new Checkpointer(helperConnection(db), 1_000_000, flag());
    write(db, 512);
    const first = walSize(db);
    expect(first).toBeGreaterThan(256 * 1024);
    const result = checkpointer.run();
    expect(result.busy).toBe(0);
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
    expect(checkpointer.passes).toBe(1);
    expect(checkpointer.framesCopied).toBe(result.log);
    // Nothing new: a pass that copies nothing is not counted.
    checkpointer.run();
    expect(checkpointer.passes).toBe(1);
    // The next writes go to the start of the file: it does not grow.
    write(db, 256);
    expect(walSize(db)).toBe(first);
    const again = checkpointer.run();
    expect(again.checkpointed).toBe(again.log);
    expect(again.log).toBeLessThan(result.log);
    expect(checkpointer.passes).toBe(2);
    expect(checkpointer.framesCopied).toBe(result.log + again.log);
  });

  it('asks the writer to start a long WAL over, once until the writer has seen it, and the writer\'s restart keeps the file from growing', () => {
    const db = managedWriter();
    const wal = new WalManager(db, { manage: true, limitBytes: 64 << 20, intervalMs: 1000, forcedWaitMs: 20, maxForcedWaitMs: 50, restartWaitMs: 0, busyTimeoutMs: 5000 });
    const wanted = flag();
    const checkpointer = new Checkpointer(helperConnection(db), 500, wanted);
    write(db, 16);
    const short = checkpointer.run();
    expect(short.log).toBeLessThan(500);
    expect(Atomics.load(wanted, 0)).toBe(0);
    write(db, 1024);
    expect(checkpointer.run().log).toBeGreaterThanOrEqual(500);
    expect(Atomics.load(wanted, 0)).toBe(1);
    expect(checkpointer.restartsAsked).toBe(1);
    checkpointer.run();
    expect(checkpointer.restartsAsked).toBe(1);
    // The writer takes the request and restarts: the WAL starts over, the file stops growing.
    expect(Atomics.exchange(wanted, 0, 0)).toBe(1);
    write(db, 16);
    const restarted = wal.restart();
    expect(restarted.busy).toBe(0);
    expect(wal.restarts).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const size = walSize(db);
    write(db, 256);
    expect(walSize(db)).toBe(size);
    expect(checkpointer.run().log).toBeLessThan(500);
  });

  it('a restart never waits for a reader of old frames: it says it could not', () => {
    const db = managedWriter();
    const wal = new WalManager(db, { manage: true, limitBytes: 64 << 20, intervalMs: 1000, forcedWaitMs: 20, maxForcedWaitMs: 50, restartWaitMs: 0, busyTimeoutMs: 5000 });
    write(db, 64);
    const reader = openWriterConnection(db.name, { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: -1 });
    cleanup(() => {
      reader.close();
    });
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM metrics').get();
    write(db, 64);
    expect(wal.restart().busy).toBe(1);
    expect(wal.restartTries).toBe(1);
    expect(wal.restarts).toBe(0);
    reader.prepare('COMMIT').run();
  });

  it('is what keeps the WAL from growing: without it, the same writes double the file (negative control)', () => {
    const db = managedWriter();
    write(db, 512);
    const first = walSize(db);
    write(db, 512);
    expect(walSize(db)).toBeGreaterThan(1.5 * first);
  });

  it('spaces its passes out while writes only trickle, and comes back to every period when they pour', () => {
    const db = managedWriter();
    const checkpointer = new Checkpointer(helperConnection(db), 1000, flag(), 25, 1000);
    // Copies what creating the schema left, without counting as a tick.
    checkpointer.run();
    write(db, 16);
    expect(checkpointer.tick(0)?.checkpointed).toBeGreaterThan(0);
    expect(checkpointer.gapMs).toBe(50);
    expect(checkpointer.tick(49)).toBeUndefined();
    expect(checkpointer.tick(50)).toBeDefined();
    expect(checkpointer.gapMs).toBe(100);
    for (let now = 150; now < 10_000; now += 25) checkpointer.tick(now);
    expect(checkpointer.gapMs).toBe(1000);
    // A pass that copies a sixteenth of the restart size or more: back to every period.
    write(db, 1024);
    let result = checkpointer.tick(10_000);
    for (let now = 10_025; result === undefined; now += 25) result = checkpointer.tick(now);
    expect(result.checkpointed).toBeGreaterThanOrEqual(1000 / 16);
    expect(checkpointer.gapMs).toBe(25);
  });

  it('wakes only when a pass is due: while nothing is written, its thread sleeps out the longest gap', async () => {
    const db = managedWriter();
    const running = runCheckpointer({ path: db.name, synchronous: 'normal', busyTimeoutMs: 5000, periodMs: 5, maxPeriodMs: 100, restartAtFrames: 1000, restartWanted: flag() });
    cleanup(() => running.stop());
    await new Promise((resolve) => setTimeout(resolve, 400));
    running.stop();
    // Passes due at 5, 15, 35, 75, 155, 255, 355 ms: a timer every period would have looked about 80 times.
    expect(running.checkpointer.looks).toBeGreaterThan(0);
    expect(running.checkpointer.looks).toBeLessThanOrEqual(12);
  });

  it('runs every period on a timer until stopped', async () => {
    const db = managedWriter();
    const running = runCheckpointer({ path: db.name, synchronous: 'normal', busyTimeoutMs: 5000, periodMs: 10, maxPeriodMs: 10, restartAtFrames: 1000, restartWanted: flag() });
    cleanup(() => running.stop());
    write(db, 256);
    await vi.waitFor(() => expect(running.checkpointer.passes).toBeGreaterThan(0), { timeout: 10_000, interval: 10 });
    running.stop();
    const passes = running.checkpointer.passes;
    write(db, 256);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(running.checkpointer.passes).toBe(passes);
  });
});

describe('the writer and its checkpointer', () => {
  const config = (path: string, manageWal: boolean): WriterConfig => ({
    path,
    synchronous: 'full',
    busyTimeoutMs: 5000,
    // Above any WAL these tests grow, so a restart never truncates the file: its size
    // then shows whether writes started over from the beginning.
    journalSizeLimit: 64 << 20,
    walLimitBytes: 32 << 20,
    checkpointIntervalMs: 1000,
    manageWal,
  });
  const recording = (): StartCheckpointer & { started: CheckpointerConfig[]; stopped: number } => {
    const record = Object.assign(
      (started: CheckpointerConfig) => {
        record.started.push(started);
        return { stop: () => void record.stopped++ };
      },
      { started: [] as CheckpointerConfig[], stopped: 0 },
    );
    return record;
  };

  it('starts one when it opens a managed WAL, with its own synchronous setting, and stops it when it closes', () => {
    const path = tempDbPath();
    const start = recording();
    const writer = new Writer(start);
    expect(writer.open(config(path, true)).ok).toBe(true);
    expect(start.started).toEqual([{ path, synchronous: 'full', busyTimeoutMs: 5000, periodMs: 25, maxPeriodMs: 1000, restartAtFrames: 1000, restartWanted: expect.any(Int32Array) }]);
    expect(start.stopped).toBe(0);
    writer.close();
    expect(start.stopped).toBe(1);
  });

  it('restarts the WAL between batches when its checkpointer asks, after the batch has been answered', async () => {
    const path = tempDbPath();
    const start = recording();
    const writer = new Writer(start);
    expect(writer.open(config(path, true)).ok).toBe(true);
    const wanted = start.started[0]!.restartWanted;
    const blob = JSON.stringify({ pad: 'x'.repeat(1000) });
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ['metrics.record', [`m${i}`, 1, blob, undefined]] as const);
    const first = writer.execute(batch(200)).walBytes;
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.execute(batch(200)).walBytes).toBeGreaterThan(first);
    Atomics.store(wanted, 0, 1);
    const grown = writer.execute(batch(1)).walBytes;
    // Taken only once the answer has gone.
    expect(Atomics.load(wanted, 0)).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(Atomics.load(wanted, 0)).toBe(0);
    // Started over: the next batches write over the file from its start.
    expect(writer.execute(batch(200)).walBytes).toBe(grown);
    writer.close();
  });

  it('starts none when the WAL is left to SQLite', () => {
    const start = recording();
    const writer = new Writer(start);
    expect(writer.open(config(tempDbPath(), false)).ok).toBe(true);
    writer.close();
    expect(start.started).toEqual([]);
  });
});
