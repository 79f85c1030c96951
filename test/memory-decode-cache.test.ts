import Database from 'better-sqlite3';
import pg from 'pg';
import { expect, it } from 'vitest';
import { openStore, type Store } from '../src/store.js';
import type { JsonValue, MemoryEntry } from '../src/api/types.js';
import { describeEachEngine, type TestEngine } from './helpers/engines.js';
import { urlOf } from './helpers/postgres.js';
import { cleanup } from './helpers/temp.js';

// memory.get, history, search and context decode each version's value once per process
// while it is hot and hand out the same frozen value. These prove the cache is never
// stale: updates, deletes, rollbacks and expiries by this store or another (another
// process), and a caller that mutates what it got, all show in the next read.

/** A second store on the same database, with its own writer: as another process. */
async function elsewhere(engine: TestEngine, store: Store): Promise<Store> {
  const other = engine.name === 'sqlite' ? await openStore({ path: store.path, readers: 1 }) : await openStore({ url: urlOf(store) });
  cleanup(() => other.close());
  return other;
}

/** Rewrites a version's value text in place, from outside the store (no store ever does). */
async function overwrite(engine: TestEngine, store: Store, id: number, value: JsonValue): Promise<void> {
  if (engine.name === 'sqlite') {
    const db = new Database(store.path);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE memory_entries SET value = ? WHERE id = ?').run(JSON.stringify(value), id);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: urlOf(store), options: '-c search_path=abathur' });
  await client.connect();
  try {
    await client.query('UPDATE memory_entries SET value = $1::jsonb WHERE id = $2', [JSON.stringify(value), id]);
  } finally {
    await client.end();
  }
}

const values = (entries: readonly MemoryEntry[]): JsonValue[] => entries.map((entry) => entry.value);

describeEachEngine('memory: decoded values', (engine) => {
  it('decodes a version once and hands every read the same frozen value; entries and arrays are the caller\'s own', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: 'user:u', key: 'k', value: { theme: 'dark', tags: ['a'] }, type: 'semantic' });
    const first = (await store.memory.get('user:u', 'k'))!;
    const second = (await store.memory.get('user:u', 'k'))!;
    expect(second).not.toBe(first);
    expect(second.value).toBe(first.value);
    expect(Object.isFrozen(second.value)).toBe(true);
    const context = await store.memory.context({ sessionId: 's', userId: 'u', appName: 'a' });
    expect(context.user[0]!.value).toBe(first.value);
    expect((await store.memory.search({ namespacePrefix: 'user:u' })).items[0]!.value).toBe(first.value);
    expect((await store.memory.history('user:u', 'k')).items[0]!.value).toBe(first.value);
  });

  it('hands out values no caller can change for the next one', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: 'user:u', key: 'k', value: { theme: 'dark', tags: ['a'] }, type: 'semantic' });
    const got = (await store.memory.get<{ theme: string; tags: string[] }>('user:u', 'k'))!;
    expect(() => {
      got.value.theme = 'light';
    }).toThrow(TypeError);
    expect(() => got.value.tags.push('b')).toThrow(TypeError);
    // The entry object is the caller's: replacing its value changes nothing stored or held.
    (got as MemoryEntry).value = 'mine';
    got.version = 99;
    const context = await store.memory.context({ sessionId: 's', userId: 'u', appName: 'a' });
    context.user.pop();
    expect((await store.memory.get('user:u', 'k'))!).toMatchObject({ version: 1, value: { theme: 'dark', tags: ['a'] } });
    expect(values((await store.memory.context({ sessionId: 's', userId: 'u', appName: 'a' })).user)).toEqual([{ theme: 'dark', tags: ['a'] }]);
  });

  for (const where of ['this store', 'another store (another process)'] as const) {
    it(`sees updates, rollbacks, deletes and expiries by ${where}`, async () => {
      const store = await engine.open();
      const writer = where === 'this store' ? store : await elsewhere(engine, store);
      await writer.memory.add({ namespace: 'user:u', key: 'k', value: { n: 1 }, type: 'semantic' });
      await writer.memory.add({ namespace: 'user:u', key: 'e', value: { n: 'e1' }, type: 'episodic' });
      const read = async (): Promise<JsonValue[]> => values((await store.memory.context({ sessionId: 's', userId: 'u', appName: 'a' })).user);
      expect(await read()).toEqual([{ n: 'e1' }, { n: 1 }]);
      expect((await store.memory.get('user:u', 'k'))!.value).toEqual({ n: 1 });

      await writer.memory.update('user:u', 'k', { n: 2 });
      expect(await read()).toEqual([{ n: 'e1' }, { n: 2 }]);
      expect((await store.memory.get('user:u', 'k'))!.value).toEqual({ n: 2 });
      expect(values((await store.memory.history('user:u', 'k')).items)).toEqual([{ n: 2 }, { n: 1 }]);

      await writer.memory.rollback('user:u', 'k');
      expect((await store.memory.get('user:u', 'k'))!.value).toEqual({ n: 1 });
      expect(await read()).toEqual([{ n: 'e1' }, { n: 1 }]);

      await writer.memory.expireEpisodic(Date.now() + 60_000);
      expect(await store.memory.get('user:u', 'e')).toBeUndefined();
      expect(await read()).toEqual([{ n: 1 }]);

      await writer.memory.delete('user:u', 'k');
      expect(await store.memory.get('user:u', 'k')).toBeUndefined();
      expect(await read()).toEqual([]);
      expect((await store.memory.search({ namespacePrefix: 'user' })).items).toEqual([]);

      // Added again: a new version of the same key, whose value is read, not the old one's.
      await writer.memory.add({ namespace: 'user:u', key: 'k', value: { n: 3 }, type: 'semantic' });
      expect((await store.memory.get('user:u', 'k'))!).toMatchObject({ version: 3, value: { n: 3 } });
      expect(await read()).toEqual([{ n: 3 }]);
    });
  }

  it('never hands out a held value for a row whose text is not the one it decoded', async () => {
    const store = await engine.open();
    const added = await store.memory.add({ namespace: 'user:u', key: 'k', value: { n: 1 }, type: 'semantic' });
    expect((await store.memory.get('user:u', 'k'))!.value).toEqual({ n: 1 });
    await overwrite(engine, store, added.id, { n: 'rewritten' });
    expect((await store.memory.get('user:u', 'k'))!.value).toEqual({ n: 'rewritten' });
  });

  it('with decodeCacheBytes 0 decodes every value of every read, as objects of the caller', async () => {
    const store = await engine.open({ decodeCacheBytes: 0 });
    await store.memory.add({ namespace: 'user:u', key: 'k', value: { n: 1 }, type: 'semantic' });
    const first = (await store.memory.get<{ n: number }>('user:u', 'k'))!;
    const second = (await store.memory.get<{ n: number }>('user:u', 'k'))!;
    expect(second.value).not.toBe(first.value);
    expect(Object.isFrozen(first.value)).toBe(false);
    const context = await store.memory.context<{ n: number }>({ sessionId: 's', userId: 'u', appName: 'a' });
    expect(Object.isFrozen(context.user[0]!.value)).toBe(false);
    first.value.n = 100;
    context.user[0]!.value.n = 200;
    expect((await store.memory.get('user:u', 'k'))!.value).toEqual({ n: 1 });
  });
});
