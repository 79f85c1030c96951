import { engineOf, openStore, type Store } from '../../src/store.js';
import type { StoreOptions } from '../../src/api/options.js';
import { Engine } from '../../src/sqlite/engine.js';
import { InstrumentedEngine } from '../../src/telemetry/instrument.js';
import { cleanup, tempDbPath } from './temp.js';

/** A store on a fresh database file, closed when the test finishes. */
export async function openTestStore(options: Partial<StoreOptions> = {}): Promise<Store> {
  const store = await openStore({ path: tempDbPath(), ...options });
  cleanup(() => store.close().catch(() => {}));
  return store;
}

/** Settles every promise and sorts the outcomes. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<{ values: T[]; errors: { code?: string; message: string }[] }> {
  const results = await Promise.allSettled(promises);
  return {
    values: results.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled').map((r) => r.value as T),
    errors: results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as { code?: string; message: string }),
  };
}

/** The SQLite engine behind a store, under its telemetry if it has any: for tests that reach its threads. */
export function sqliteEngineOf(store: Store): Engine {
  const outer = engineOf(store);
  const engine = outer instanceof InstrumentedEngine ? outer.inner : outer;
  if (!(engine instanceof Engine)) throw new TypeError('expected a store on the SQLite engine');
  return engine;
}
