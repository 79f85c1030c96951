import Database from 'better-sqlite3';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/api/options.js';
import { engineConfig } from '../src/sqlite/engine.js';
import { EngineStats } from '../src/diagnostics/engine-stats.js';
import { WriterClient } from '../src/sqlite/writer-client.js';
import type { WriterConfig } from '../src/sqlite/writer-thread.js';
import { inProcessWriters, type InProcessWriterThread, type WriterHooks } from './helpers/in-process-store.js';
import { cleanup, tempDbPath, tempDir } from './helpers/temp.js';

// The writer client's queue, group-commit batching and restarts, on writer threads that
// run on this thread (test/helpers/in-process-store.ts): a "thread" can be killed at any
// call, and dies as a thread does, leaving the call it was in unanswered.

const record = (client: WriterClient, n: number): Promise<unknown> => client.submit('metrics.record', [`m${n}`, n, null, undefined]);

async function start(options: { maxBatch?: number; path?: string; walLimitBytes?: number } = {}, hooks: WriterHooks = {}) {
  const config: WriterConfig = {
    ...engineConfig(resolveOptions({ path: options.path ?? tempDbPath() })).writer,
    ...(options.walLimitBytes === undefined ? {} : { walLimitBytes: options.walLimitBytes }),
  };
  const stats = new EngineStats();
  const spawn = inProcessWriters(hooks);
  const client = await WriterClient.start(config, { maxBatch: options.maxBatch ?? 512 }, stats, spawn);
  cleanup(() => client.close());
  return { client, stats, threads: spawn.spawned, config };
}

/** Hooks that step into every open but the first (the one that starts the client). */
function reopens(onReopen: (thread: InProcessWriterThread) => void): WriterHooks {
  let opens = 0;
  return {
    beforeCall(method, thread) {
      if (method === 'open' && ++opens > 1) onReopen(thread);
    },
  };
}

/** Lets every pending microtask run, but no timer and no I/O. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function metricNames(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT metric_name FROM metrics ORDER BY id').pluck().all() as string[];
  } finally {
    db.close();
  }
}

describe('writer client', () => {
  it('sends what waits as one batch, at most maxBatch at a time, in order, and settles each call with its result', async () => {
    const { client, stats, config } = await start({ maxBatch: 3 });
    const results = await Promise.all(Array.from({ length: 7 }, (_, n) => record(client, n)));
    expect(results.map((r) => (r as { name: string }).name)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(stats.writeBatches.summary()).toEqual({ batches: 3, calls: 7, mean: 2.3, max: 3 });
    expect(metricNames(config.path)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(Object.keys(stats.latency())).toEqual(['metrics.record']);
    expect(stats.latency()['metrics.record']!.count).toBe(7);
    expect(client.queueDepth).toBe(0);
    expect(client.walBytes).toBeGreaterThan(0);
    expect(client.peakWalBytes).toBeGreaterThanOrEqual(client.walBytes);
  });

  it('gathers the writes of the callers an answer wakes into one batch, even when each writes from its own turn', async () => {
    const { client, stats } = await start();
    // Callers that, like I/O-driven sessions, each yield to the event loop before writing again.
    const caller = async (c: number): Promise<void> => {
      for (let round = 0; round < 4; round++) {
        await new Promise((resolve) => setImmediate(resolve));
        await record(client, c * 10 + round);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => caller(c)));
    // The first write to the idle writer goes at once, alone; after that one batch per
    // round. Flushed in a microtask, the first write after each answer would go alone and
    // the other seven after it, every round.
    expect(stats.writeBatches.summary()).toEqual({ batches: 5, calls: 32, mean: 6.4, max: 8 });
  });

  it('has one batch with the writer at a time; what arrives meanwhile goes next, together', async () => {
    const { client, stats, threads } = await start();
    const first = record(client, 0);
    await microtasks();
    const rest = [1, 2, 3, 4, 5].map((n) => record(client, n));
    await Promise.all([first, ...rest]);
    expect(stats.writeBatches.summary()).toMatchObject({ batches: 2, calls: 6, max: 5 });
    expect(threads[0]!.maxConcurrentBatches).toBe(1);
  });

  it('keeps the highest WAL size it was told of', async () => {
    const { client } = await start({ walLimitBytes: 512 * 1024 });
    // Creating the schema left a few hundred KiB in the WAL, under the limit.
    await record(client, 0);
    const before = client.walBytes;
    expect(before).toBeGreaterThan(0);
    expect(client.peakWalBytes).toBe(before);
    // Past walLimitBytes the writer truncates the WAL after that batch's answer has gone:
    // the answer reports the grown WAL, the next one what is left after the truncation.
    const pad = JSON.stringify({ pad: 'x'.repeat(4000) });
    await Promise.all(Array.from({ length: 100 }, (_, n) => client.submit('metrics.record', [`m${n}`, n, pad, undefined])));
    const grown = client.walBytes;
    expect(grown).toBeGreaterThan(512 * 1024);
    expect(client.peakWalBytes).toBe(grown);
    await record(client, 1);
    expect(client.walBytes).toBeLessThan(before);
    expect(client.peakWalBytes).toBe(grown);
  });

  it('rejects a failing call alone, with its code rebuilt on this side', async () => {
    const { client } = await start();
    const calls = [record(client, 1), client.submit('metrics.record', ['bad', -1, null, undefined]), record(client, 2)];
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({
      name: 'StoreError',
      code: 'CONSTRAINT',
      sqliteCode: 'SQLITE_CONSTRAINT_CHECK',
    });
  });

  it('holds the thread referenced only while work is pending', async () => {
    const { client, threads } = await start();
    await sleep(0);
    expect(threads[0]!.refed).toBe(false);
    const write = record(client, 1);
    expect(threads[0]!.refed).toBe(true);
    await write;
    await sleep(0);
    expect(threads[0]!.refed).toBe(false);
    const check = client.check();
    expect(threads[0]!.refed).toBe(true);
    expect((await check).ok).toBe(true);
    expect(threads[0]!.refed).toBe(false);
  });

  it('holds the thread while a check is pending, though the writes are done, and while writes are pending, though the check is done', async () => {
    const { client, threads } = await start();
    const write = record(client, 1);
    const check = client.check();
    await write;
    expect(threads[0]!.refed).toBe(true);
    await check;
    await microtasks();
    expect(threads[0]!.refed).toBe(false);

    const check2 = client.check();
    const write2 = record(client, 2);
    await check2;
    expect(threads[0]!.refed).toBe(true);
    await write2;
    await microtasks();
    expect(threads[0]!.refed).toBe(false);
  });

  it('drain waits for the batch with the writer even when nothing is queued', async () => {
    const { client } = await start();
    const write = record(client, 1);
    await microtasks();
    expect(client.queueDepth).toBe(0);
    let drained = false;
    const drain = client.drain().then(() => (drained = true));
    await microtasks();
    expect(drained).toBe(false);
    await write;
    await drain;
    expect(drained).toBe(true);
  });

  it('a writer that dies mid-batch: the batch is OUTCOME_UNKNOWN, what waited goes to a fresh writer', async () => {
    let kill = true;
    const { client, threads, config } = await start(
      { maxBatch: 2 },
      {
        beforeCall(method, thread) {
          if (method === 'execute' && kill) {
            kill = false;
            void thread.terminate();
          }
        },
      },
    );
    const settled = await Promise.allSettled([0, 1, 2, 3].map((n) => record(client, n)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as { code: string }).code))).toEqual([
      'OUTCOME_UNKNOWN',
      'OUTCOME_UNKNOWN',
      'ok',
      'ok',
    ]);
    expect(((settled[0] as PromiseRejectedResult).reason as Error).message).toMatch(/writer thread died while committing.*exited with code 1/);
    expect(client.restarts).toBe(1);
    expect(threads).toHaveLength(2);
    expect(client.thread).toBe(threads[1]);
    expect(metricNames(config.path)).toEqual(['m2', 'm3']);
  });

  it('a writer that dies while idle is replaced, and the next write goes to the new one', async () => {
    const { client, threads } = await start();
    await threads[0]!.terminate();
    expect(client.restarts).toBe(1);
    expect(await record(client, 1)).toMatchObject({ name: 'm1' });
    expect(threads).toHaveLength(2);
    expect(threads[1]!.alive).toBe(true);
    // A dead thread's later exit report changes nothing.
    await threads[0]!.terminate();
    expect(client.restarts).toBe(1);
  });

  it('retries a writer that dies while starting, backing off, and serves the queued writes', async () => {
    let deathsWhileOpening = 0;
    const { client, threads } = await start(
      {},
      reopens((thread) => {
        if (deathsWhileOpening < 3) {
          deathsWhileOpening++;
          void thread.terminate();
        }
      }),
    );
    await threads[0]!.terminate();
    expect(await record(client, 1)).toMatchObject({ name: 'm1' });
    expect(threads).toHaveLength(5);
    // The first writer's death, and three that died while starting.
    expect(client.restarts).toBe(4);
    expect((await client.check()).ok).toBe(true);
  });

  it('gives up after five writers in a row die while starting: queued writes fail WORKER_CRASHED; the next write tries again', async () => {
    let failing = true;
    const { client, threads } = await start(
      {},
      reopens((thread) => {
        if (failing) void thread.terminate();
      }),
    );
    await threads[0]!.terminate();
    const queued = await Promise.allSettled([record(client, 1), record(client, 2)]);
    for (const outcome of queued) {
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: { code: 'WORKER_CRASHED', message: expect.stringMatching(/^writer thread could not restart: writer thread exited/) },
      });
    }
    expect(threads).toHaveLength(6);
    failing = false;
    expect(await record(client, 3)).toMatchObject({ name: 'm3' });
    expect(threads).toHaveLength(7);
    expect(client.queueDepth).toBe(0);
  });

  it('a writer that cannot reopen the database fails the queued writes with its code; the next write tries again', async () => {
    const dir = join(tempDir(), 'db');
    mkdirSync(dir);
    const { client, threads } = await start({ path: join(dir, 'store.db') });
    // The file moves away, then the writer dies: its replacement cannot open the path.
    renameSync(dir, `${dir}-moved`);
    await threads[0]!.terminate();
    await expect(record(client, 1)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringMatching(/^writer thread could not restart: cannot open database .*directory .* does not exist$/),
    });
    // The thread that could not open was ended, not left running.
    expect(threads[1]!.alive).toBe(false);
    await expect(client.check()).rejects.toMatchObject({ code: 'WORKER_CRASHED', message: 'writer thread is not running' });
    renameSync(`${dir}-moved`, dir);
    expect(await record(client, 2)).toMatchObject({ name: 'm2' });
    expect((await client.check()).ok).toBe(true);
  });

  it('a writer whose open call fails outright (not as an answer) fails the queued writes WORKER_CRASHED', async () => {
    let broken = true;
    const { client, threads } = await start(
      {},
      reopens(() => {
        if (broken) throw new Error('the message channel closed');
      }),
    );
    await threads[0]!.terminate();
    await expect(record(client, 1)).rejects.toMatchObject({
      code: 'WORKER_CRASHED',
      message: 'writer thread could not restart: the message channel closed',
    });
    broken = false;
    expect(await record(client, 2)).toMatchObject({ name: 'm2' });
  });

  it('check restarts a writer that is down, as a write does', async () => {
    const dir = join(tempDir(), 'db');
    mkdirSync(dir);
    const { client, threads } = await start({ path: join(dir, 'store.db') });
    renameSync(dir, `${dir}-moved`);
    await threads[0]!.terminate();
    await expect(record(client, 1)).rejects.toMatchObject({ code: 'IO_ERROR' });
    renameSync(`${dir}-moved`, dir);
    expect((await client.check()).ok).toBe(true);
    expect(threads).toHaveLength(3);
    expect(threads[2]!.alive).toBe(true);
  });

  it('start fails, and starts nothing else, when the first writer dies while opening', async () => {
    const spawn = inProcessWriters({ beforeCall: (method, thread) => void (method === 'open' && thread.terminate()) });
    const config = engineConfig(resolveOptions({ path: tempDbPath() })).writer;
    await expect(WriterClient.start(config, { maxBatch: 10 }, new EngineStats(), spawn)).rejects.toMatchObject({
      code: 'WORKER_CRASHED',
      message: 'writer thread exited with code 1',
    });
    await sleep(50);
    expect(spawn.spawned).toHaveLength(1);
  });

  it('start rejects with the reason the database would not open, and ends the thread', async () => {
    const spawn = inProcessWriters();
    const config = engineConfig(resolveOptions({ path: tempDbPath('no/such/dir/store.db') })).writer;
    await expect(WriterClient.start(config, { maxBatch: 10 }, new EngineStats(), spawn)).rejects.toMatchObject({
      name: 'StoreError',
      code: 'IO_ERROR',
      sqliteCode: 'SQLITE_CANTOPEN',
    });
    expect(spawn.spawned).toHaveLength(1);
    expect(spawn.spawned[0]!.alive).toBe(false);
  });

  it('check waits for a writer that is restarting, and fails fast when the writer dies during it', async () => {
    let killCheck = false;
    const { client, threads } = await start(
      {},
      {
        beforeCall(method, thread) {
          if (method === 'check' && killCheck) {
            killCheck = false;
            void thread.terminate();
          }
        },
      },
    );
    await threads[0]!.terminate();
    expect((await client.check()).ok).toBe(true);
    killCheck = true;
    await expect(client.check()).rejects.toMatchObject({ code: 'WORKER_CRASHED' });
    expect(await record(client, 1)).toMatchObject({ name: 'm1' });
  });

  it('drain waits for queued and in-flight writes; close drains, truncates the WAL and ends the thread', async () => {
    const { client, threads, config } = await start({ maxBatch: 1 });
    let drained = false;
    expect(client.queueDepth).toBe(0);
    const writes = [1, 2, 3].map((n) => record(client, n));
    expect(client.queueDepth).toBe(3);
    const drain = client.drain().then(() => (drained = true));
    await writes[1];
    expect(drained).toBe(false);
    await drain;
    await Promise.all(writes);
    await client.drain();
    // A reader of its own keeps the WAL file from being removed when the writer's
    // connection closes, so the test sees the size close() left it at.
    const outside = new Database(config.path, { readonly: true });
    outside.prepare('SELECT count(*) FROM metrics').get();
    expect(statSync(`${config.path}-wal`).size).toBeGreaterThan(0);
    await client.close();
    expect(statSync(`${config.path}-wal`).size).toBe(0);
    outside.close();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.alive).toBe(false);
    // Held referenced until the end: closing must not let the process exit early.
    expect(threads[0]!.refed).toBe(true);
    expect(client.restarts).toBe(0);
    expect(metricNames(config.path)).toEqual(['m1', 'm2', 'm3']);
  });

  it('close during a restart waits for the replacement, closes it, and starts no other', async () => {
    const calls: [InProcessWriterThread, string][] = [];
    const { client, threads } = await start({}, { beforeCall: (method, thread) => void calls.push([thread, method]) });
    // The writer dies while idle: its replacement is opening when close() is called.
    await threads[0]!.terminate();
    expect(threads).toHaveLength(2);
    await client.close();
    // The replacement opened and was closed as a writer is (its connection closed, the WAL
    // truncated), not killed while opening; no writer started after close() resolved.
    expect(calls.map(([thread, method]) => `${threads.indexOf(thread)} ${method}`)).toEqual(['0 open', '1 open', '1 close']);
    expect(threads.map((t) => t.alive)).toEqual([false, false]);
    await sleep(100);
    expect(threads.map((t) => t.alive)).toEqual([false, false]);
  });

  it('close while a replacement died starting: the restart tries no more, and none is left running', async () => {
    const { client, threads } = await start(
      {},
      reopens((thread) => void thread.terminate()),
    );
    await threads[0]!.terminate();
    await client.close();
    // The first replacement died opening; close() came before the restart tried again,
    // so none started after it.
    expect(threads.map((t) => t.alive)).toEqual([false, false]);
    await sleep(100);
    expect(threads.map((t) => t.alive)).toEqual([false, false]);
  });

  it('close ends a writer that is down without calling it', async () => {
    const dir = join(tempDir(), 'db');
    mkdirSync(dir);
    const { client, threads } = await start({ path: join(dir, 'store.db') });
    renameSync(dir, `${dir}-moved`);
    await threads[0]!.terminate();
    await expect(record(client, 1)).rejects.toMatchObject({ code: 'IO_ERROR' });
    await client.close();
    expect(threads).toHaveLength(2);
    expect(threads.every((t) => !t.alive)).toBe(true);
  });
});
