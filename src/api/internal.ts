import type { StoreEngine } from '../services/engine.js';
import type { Store } from './store.js';

// The package's own way to reach what it keeps off the public surface. This module is
// not in the package's exports map and nothing public names it: a Store's engine is
// reachable from its services, the command line, the framework adapters and the tests,
// never through a property a user can see.

const engines = new WeakMap<object, StoreEngine>();
let construct: ((engine: StoreEngine) => Store) | undefined;

/** Records the engine behind a Store; called once, by the Store's constructor. */
export function linkEngine(store: Store, engine: StoreEngine): void {
  engines.set(store, engine);
}

/** The engine behind a Store. */
export function engineOf(store: Store): StoreEngine {
  const engine = engines.get(store);
  if (engine === undefined) throw new TypeError('expected a Store made by openStore');
  return engine;
}

/** Called by Store's static block: hands over the one way to construct a Store. */
export function provideStoreConstructor(fn: (engine: StoreEngine) => Store): void {
  construct = fn;
}

/** A Store over an engine already started (openStore's, or a test's in-process one). */
export function createStore(engine: StoreEngine): Store {
  if (construct === undefined) throw new Error('internal: src/api/store.js has not been loaded');
  return construct(engine);
}
