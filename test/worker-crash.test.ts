import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../src/store.js';
import { openTestStore, sqliteEngineOf } from './helpers/store.js';
import { tempDir } from './helpers/temp.js';

interface Tracked {
  issuedAt: number;
  settledAt?: number;
  code?: string;
}

/** A call must settle within this long of the kill (or of its issue, if later). */
const SETTLE_MS = 5000;

/**
 * Runs `callers` loops of `call` until `stop()`; records when each call was issued and
 * settled. `stop()` waits at most SETTLE_MS for the calls in progress: one that never
 * settles is left without `settledAt`, and the test fails on it at once.
 */
function load(callers: number, call: (i: number) => Promise<unknown>) {
  const calls: Tracked[] = [];
  let running = true;
  const done = Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; running; i++) {
        const tracked: Tracked = { issuedAt: performance.now() };
        calls.push(tracked);
        try {
          await call(c * 1_000_000 + i);
        } catch (error) {
          tracked.code = (error as { code: string }).code;
        }
        tracked.settledAt = performance.now();
      }
    }),
  );
  return {
    calls,
    async stop() {
      running = false;
      await Promise.race([done, sleep(SETTLE_MS)]);
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function seed(store: Store): Promise<string> {
  return (await store.sessions.create({ appName: 'crash', userId: 'u' })).id;
}

describe('worker deaths', () => {
  it('a reader that dies fails only its in-flight reads, and is replaced', async () => {
    const store = await openTestStore({ readers: 2 });
    const id = await seed(store);
    const engine = sqliteEngineOf(store);
    const running = load(64, () => store.sessions.get(id));
    await sleep(200);
    const killedAt = performance.now();
    await engine.threads.readers[0]!.terminate();
    await sleep(300);
    await running.stop();
    expect(running.calls.filter((c) => c.settledAt === undefined)).toEqual([]);

    const before = running.calls.filter((c) => c.issuedAt < killedAt);
    // Every call issued before the kill settled within a second of it.
    for (const call of before) expect(call.settledAt! - Math.max(call.issuedAt, killedAt)).toBeLessThan(SETTLE_MS);
    const codes = new Set(running.calls.flatMap((c) => (c.code === undefined ? [] : [c.code])));
    expect([...codes]).toEqual(['WORKER_CRASHED']);
    const crashed = running.calls.filter((c) => c.code === 'WORKER_CRASHED').length;
    expect(crashed).toBeGreaterThan(0);
    expect(crashed).toBeLessThan(running.calls.length / 2);

    await until(() => store.stats().restarts.readers === 1 && engine.threads.readers.length === 2);
    expect((await Promise.all(Array.from({ length: 50 }, () => store.sessions.get(id)))).every((s) => s?.id === id)).toBe(true);
  });

  it('a writer that dies: in-flight writes are OUTCOME_UNKNOWN, queued ones go to a fresh writer', async () => {
    const store = await openTestStore();
    const engine = sqliteEngineOf(store);
    const running = load(64, (n) => store.sessions.create({ id: `s${n}`, appName: 'crash', userId: 'u' }));
    await sleep(300);
    const killedAt = performance.now();
    const writer = engine.threads.writer;
    await writer.terminate();
    await sleep(500);
    await running.stop();
    expect(running.calls.filter((c) => c.settledAt === undefined)).toEqual([]);

    for (const call of running.calls.filter((c) => c.issuedAt < killedAt)) {
      expect(call.settledAt! - Math.max(call.issuedAt, killedAt)).toBeLessThan(SETTLE_MS);
    }
    const codes = new Set(running.calls.flatMap((c) => (c.code === undefined ? [] : [c.code])));
    expect([...codes]).toEqual(['OUTCOME_UNKNOWN']);
    // Calls issued after the kill were served by the new writer.
    const after = running.calls.filter((c) => c.issuedAt > killedAt + 100);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.code === undefined)).toBe(true);
    expect(store.stats().restarts.writer).toBe(1);
    expect(engine.threads.writer).not.toBe(writer);
    const created = await store.sessions.create({ appName: 'after', userId: 'u' });
    expect(await store.sessions.get(created.id)).toEqual(created);
    expect((await store.check()).ok).toBe(true);
  });

  it('a writer that cannot reopen the database fails the queued writes with why, and the next write tries again', async () => {
    const dir = join(tempDir(), 'db');
    mkdirSync(dir);
    const store = await openStore({ path: join(dir, 'store.db') });
    try {
      await store.sessions.create({ id: 'before', appName: 'a', userId: 'u' });
      const engine = sqliteEngineOf(store);
      // The file moves away, then the writer dies: its replacement cannot open the path.
      renameSync(dir, `${dir}-moved`);
      await engine.threads.writer.terminate();
      await expect(store.sessions.create({ appName: 'a', userId: 'u' })).rejects.toMatchObject({
        code: 'IO_ERROR',
        message: expect.stringContaining('writer thread could not restart'),
      });
      renameSync(`${dir}-moved`, dir);
      expect((await store.sessions.create({ id: 'after', appName: 'a', userId: 'u' })).id).toBe('after');
      expect(await store.sessions.get('before')).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('no promise is left pending when the writer dies while idle', async () => {
    const store = await openTestStore();
    const engine = sqliteEngineOf(store);
    await engine.threads.writer.terminate();
    await until(() => store.stats().restarts.writer === 1);
    const session = await store.sessions.create({ appName: 'idle', userId: 'u' });
    expect(session.appName).toBe('idle');
  });
});
