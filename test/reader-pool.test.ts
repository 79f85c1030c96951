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
