import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { engineOf } from '../src/store.js';
import { Engine } from '../src/sqlite/engine.js';
import { openTestStore, sqliteEngineOf } from './helpers/store.js';
import { openInProcessStore } from './helpers/in-process-store.js';

/** Every object reachable from `root` through properties a user can see (own keys, symbols included). */
function reachable(root: object): unknown[] {
  const seen = new Set<unknown>([root]);
  const queue: unknown[] = [root];
  while (queue.length > 0) {
    const value = queue.shift() as object;
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      const child: unknown = 'value' in descriptor ? descriptor.value : undefined;
      if ((typeof child === 'object' || typeof child === 'function') && child !== null && !seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return [...seen];
}

describe('the public surface', () => {
  it('the package entry exports openStore and StoreError, and nothing else at run time', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual(['StoreError', 'openStore']);
  });

  it('a Store shows its nine services and nothing else; no engine, thread or connection is reachable', async () => {
    const store = await openTestStore({ readers: 1 });
    expect(Reflect.ownKeys(store).sort()).toEqual(
      ['agents', 'audit', 'checkpoints', 'documents', 'memory', 'metrics', 'sessions', 'state', 'tasks'].sort(),
    );
    for (const service of Object.values(store)) expect(Reflect.ownKeys(service as object)).toEqual([]);
    const internals = reachable(store).filter(
      (value) => value instanceof Engine || value instanceof Database || value instanceof Worker,
    );
    expect(internals).toEqual([]);
    // The package's own accessor does reach it: the engine is there, only not public.
    expect(sqliteEngineOf(store)).toBeInstanceOf(Engine);
    expect(sqliteEngineOf(store).threads.readers).toHaveLength(1);
  });

  it('the walk would find an engine on a public property (the check can fail)', async () => {
    const store = await openInProcessStore();
    const leaky = { ...store, leaked: { deeper: engineOf(store) } };
    expect(reachable(leaky).filter((value) => value instanceof Engine)).toHaveLength(1);
  });

  it('engineOf refuses anything that openStore did not make', () => {
    expect(() => engineOf({} as never)).toThrow(/expected a Store made by openStore/);
  });
});
