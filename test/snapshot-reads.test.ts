import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('snapshot reads', (engine) => {
  it('never see half of a delete that marks many versions', async () => {
    const store = await engine.open({ readers: 2 });
    const versions = 20;
    const seen = new Map<number, number>();
    for (let cycle = 0; cycle < 10; cycle++) {
      const key = `k${cycle}`;
      await store.memory.add({ namespace: 'user:snap', key, value: 0, type: 'semantic' });
      for (let v = 1; v < versions; v++) await store.memory.update('user:snap', key, v);
      let deleting = true;
      const deleted = store.memory.delete('user:snap', key).finally(() => (deleting = false));
      const readers = Array.from({ length: 8 }, async () => {
        do {
          const { items } = await store.memory.history('user:snap', key, { limit: 100 });
          const count = items.filter((e) => e.isDeleted).length;
          seen.set(count, (seen.get(count) ?? 0) + 1);
        } while (deleting);
      });
      await Promise.all([deleted, ...readers]);
      expect(await deleted).toEqual({ deletedVersions: versions });
    }
    expect([...seen.keys()].every((count) => count === 0 || count === versions)).toBe(true);
    expect(seen.get(versions)).toBeGreaterThan(0);
  });

  it('never see half of an expiry that removes many keys at once', async () => {
    const store = await engine.open({ readers: 2 });
    const keys = 30;
    const seen = new Map<number, number>();
    for (let cycle = 0; cycle < 5; cycle++) {
      const namespace = `session:c${cycle}`;
      await Promise.all(Array.from({ length: keys }, (_, j) => store.memory.add({ namespace, key: `e${j}`, value: j, type: 'episodic' })));
      let expiring = true;
      const expired = store.memory.expireEpisodic(Date.now() + 60_000).finally(() => (expiring = false));
      const readers = Array.from({ length: 8 }, async () => {
        do {
          const { items } = await store.memory.search({ namespacePrefix: namespace, limit: 100 });
          seen.set(items.length, (seen.get(items.length) ?? 0) + 1);
        } while (expiring);
      });
      await Promise.all([expired, ...readers]);
      expect(await expired).toEqual({ expired: keys });
      expect((await store.memory.search({ namespacePrefix: namespace })).items).toEqual([]);
    }
    expect([...seen.keys()].every((count) => count === 0 || count === keys)).toBe(true);
  });
}, { threads: true });
