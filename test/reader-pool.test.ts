import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store.js';
import { openTestStore, sqliteEngineOf } from './helpers/store.js';
import { tempDbPath } from './helpers/temp.js';

// The reader pool on real threads: Piscina's pool, each thread running one serve task.

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('the reader pool', () => {
  it("is Piscina's: a reader thread killed is replaced by the pool, which is back at `readers` threads, and reads are served", async () => {
    const store = await openTestStore({ readers: 2 });
    const engine = sqliteEngineOf(store);
    const session = await store.sessions.create({ appName: 'pool', userId: 'u' });
    const [doomed, survivor] = engine.threads.readers;
    const doomedId = doomed!.threadId;
    expect([doomedId, survivor!.threadId].every((id) => id > 0)).toBe(true);
    await doomed!.terminate();
    await until(() => store.stats().restarts.readers === 1);
    const threads = engine.threads.readers;
    expect(threads).toHaveLength(2);
    expect(threads).toContain(survivor);
    expect(threads).not.toContain(doomed);
    const ids = threads.map((thread) => thread.threadId);
    expect(ids.every((id) => id > 0 && id !== doomedId)).toBe(true);
    // Enough reads at once that both readers take batches.
    const reads = await Promise.all(Array.from({ length: 200 }, () => store.sessions.get(session.id)));
    expect(reads.every((read) => read?.id === session.id)).toBe(true);
    expect(store.stats().restarts.readers).toBe(1);
  });

  it('answers reads of long histories, sent in pages, whole and in order, beside small reads in the same batches', async () => {
    const store = await openTestStore({ readers: 2 });
    const session = await store.sessions.create({ appName: 'pool', userId: 'u' });
    // About 1 KB each: 1,000 events are several pages.
    const events = Array.from({ length: 1000 }, (_, i) => ({ event: { i, text: 'x'.repeat(1000) } }));
    for (let i = 0; i < events.length; i += 250) await store.sessions.appendEvents(session.id, events.slice(i, i + 250));
    const reads = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store.sessions.get(session.id) : store.sessions.get(session.id, { lastEvents: 1 }))),
    );
    for (const [i, read] of reads.entries()) {
      expect(read!.events).toEqual(i % 2 === 0 ? events.map((e) => e.event) : [events.at(-1)!.event]);
    }
    const page = await store.sessions.events(session.id, { limit: 1000 });
    expect(page.items.map((item) => (item.event as { i: number }).i)).toEqual(events.map((e) => e.event.i));
  });

  it('gives each reader thread readerResourceLimits: too small a heap fails openStore with the thread’s own error as cause, and leaves nothing running', async () => {
    const path = tempDbPath();
    const failed = await openStore({ path, readers: 2, readerResourceLimits: { maxOldGenerationSizeMb: 1 } }).then(
      (store) => store.close().then(() => undefined),
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({
      name: 'StoreError',
      code: 'WORKER_CRASHED',
      message: expect.stringContaining('reader thread could not start'),
      cause: expect.objectContaining({ code: 'ERR_WORKER_OUT_OF_MEMORY' }),
    });
    // The writer was closed too: its last connection gone, SQLite removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
    // Reasonable limits on the same file work.
    const store = await openStore({ path, readers: 2, readerResourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 4 } });
    try {
      expect((await store.sessions.create({ appName: 'limits', userId: 'u' })).appName).toBe('limits');
    } finally {
      await store.close();
    }
  });
});
