import { describe, expect, it } from 'vitest';
import { openTestStore } from './helpers/store.js';

describe('read coalescing', () => {
  it('sends a lone read at once, in a batch of one', async () => {
    const store = await openTestStore();
    const session = await store.sessions.create({ appName: 'c', userId: 'u' });
    const before = store.stats().batches.read;
    const started = performance.now();
    expect((await store.sessions.get(session.id))?.id).toBe(session.id);
    const elapsed = performance.now() - started;
    const after = store.stats().batches.read;
    expect(after.batches - before.batches).toBe(1);
    expect(after.calls - before.calls).toBe(1);
    // No timer stands between the call and the reader: well under any batching window.
    expect(elapsed).toBeLessThan(1000);
  });

  it('coalesces reads issued in the same tick into batches larger than one', async () => {
    const store = await openTestStore({ readers: 2 });
    const session = await store.sessions.create({ appName: 'c', userId: 'u' });
    const reads = await Promise.all(Array.from({ length: 200 }, () => store.sessions.get(session.id)));
    expect(reads.every((s) => s?.id === session.id)).toBe(true);
    const { read } = store.stats().batches;
    expect(read.calls).toBe(200);
    expect(read.batches).toBeLessThan(200);
    expect(read.max).toBeGreaterThan(1);
  });

  it('under concurrent callers, batch sizes grow with the load', async () => {
    const store = await openTestStore({ readers: 1 });
    const session = await store.sessions.create({ appName: 'c', userId: 'u' });
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = 0; i < 20; i++) await store.sessions.get(session.id);
      }),
    );
    const { read } = store.stats().batches;
    expect(read.calls).toBe(640);
    expect(read.mean).toBeGreaterThan(2);
  });
});
