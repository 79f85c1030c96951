import { existsSync, statSync } from 'node:fs';
import { sqliteEngineOf } from './helpers/store.js';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store.js';
import { tempDbPath } from './helpers/temp.js';

describe('close', () => {
  it('drains accepted calls, then rejects new ones with CLOSED', async () => {
    const path = tempDbPath();
    const store = await openStore({ path });
    const session = await store.sessions.create({ id: 'seed', appName: 'close', userId: 'u' });
    const writes = Array.from({ length: 100 }, (_, i) => store.sessions.create({ id: `s${i}`, appName: 'close', userId: 'u' }));
    const reads = Array.from({ length: 100 }, () => store.sessions.get(session.id));
    const { readers, writer } = sqliteEngineOf(store).threads;
    const closing = store.close();
    expect(store.close()).toBe(closing);
    await expect(store.sessions.get(session.id)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.sessions.create({ appName: 'late', userId: 'u' })).rejects.toMatchObject({ code: 'CLOSED' });
    const settled = await Promise.allSettled([...writes, ...reads]);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    await closing;
    await expect(store.check()).rejects.toMatchObject({ code: 'CLOSED' });
    // Threads are gone and the WAL was checkpointed away.
    expect(writer.threadId).toBe(-1);
    expect(readers.every((r) => r.threadId === -1)).toBe(true);
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);

    const reopened = await openStore({ path });
    try {
      expect((await reopened.sessions.listByUser('u', { limit: 1000 })).items).toHaveLength(101);
    } finally {
      await reopened.close();
    }
  });

  it('closes a store that never did anything', async () => {
    const store = await openStore({ path: tempDbPath() });
    await store.close();
    await expect(store.memory.get('a', 'b')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
