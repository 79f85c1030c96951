import { describe } from 'vitest';
import type { StoreOptions } from '../../src/api/options.js';
import type { Store } from '../../src/api/store.js';
import type { EngineKind } from '../../src/api/types.js';
import { openInProcessStore } from './in-process-store.js';
import { openPostgresTestStore } from './postgres.js';
import { openTestStore } from './store.js';

/** Options a test may pass: the SQLite engine's; the PostgreSQL engine takes those it shares (maxQueue, the payload limits). */
export type TestStoreOptions = Partial<StoreOptions>;

export interface TestEngine {
  readonly name: EngineKind;
  /** A store on a fresh database, closed when the test finishes. */
  open(options?: TestStoreOptions): Promise<Store>;
  /**
   * The engine's own code for a SQLite extended code, as the field a StoreError carries:
   * `{ sqliteCode }` on SQLite, `{ pgCode }` (the SQLSTATE) on PostgreSQL.
   */
  native(sqliteCode: string): { sqliteCode: string } | { pgCode: string };
}

/** SQLite's constraint codes and the SQLSTATEs PostgreSQL answers for the same violations. */
const SQLSTATE_FOR: Readonly<Record<string, string>> = {
  SQLITE_CONSTRAINT_PRIMARYKEY: '23505',
  SQLITE_CONSTRAINT_UNIQUE: '23505',
  SQLITE_CONSTRAINT_FOREIGNKEY: '23503',
  SQLITE_CONSTRAINT_CHECK: '23514',
  SQLITE_CONSTRAINT_NOTNULL: '23502',
};

const sqliteNative = (sqliteCode: string): { sqliteCode: string } => ({ sqliteCode });

const postgres: TestEngine = {
  name: 'postgres',
  open: (options = {}) => {
    const { maxQueue, maxPayloadBytes, maxStateBytes } = options;
    return openPostgresTestStore({
      ...(maxQueue === undefined ? {} : { maxQueue }),
      ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
      ...(maxStateBytes === undefined ? {} : { maxStateBytes }),
    });
  },
  native(sqliteCode) {
    const pgCode = SQLSTATE_FOR[sqliteCode];
    if (pgCode === undefined) throw new Error(`no SQLSTATE known for ${sqliteCode}: add it to SQLSTATE_FOR`);
    return { pgCode };
  },
};

/**
 * The engines every domain test runs on. SQLite runs in-process (the same catalogue and
 * executors as its threads, which coverage can see); PostgreSQL on the run's server.
 */
export const ENGINES: readonly TestEngine[] = [
  { name: 'sqlite', open: async (options) => openInProcessStore(options), native: sqliteNative },
  postgres,
];

/** The engines with SQLite on its real threads: for tests of concurrency through the whole store. */
export const THREADED_ENGINES: readonly TestEngine[] = [{ name: 'sqlite', open: (options) => openTestStore(options), native: sqliteNative }, postgres];

/**
 * One suite, two engines: runs `body` once per engine, as `title [sqlite]` and
 * `title [postgres]`. `threads` picks SQLite's threaded store over the in-process one.
 */
export function describeEachEngine(title: string, body: (engine: TestEngine) => void, options: { threads?: boolean } = {}): void {
  for (const engine of options.threads === true ? THREADED_ENGINES : ENGINES) describe(`${title} [${engine.name}]`, () => body(engine));
}
