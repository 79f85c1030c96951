import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { describe } from 'vitest';
import type { StoreOptions } from '../../src/api/options.js';
import type { Store } from '../../src/store.js';
import type { EngineKind } from '../../src/api/types.js';
import { openInProcessStore } from './in-process-store.js';
import { openPostgresTestStore, postgresFingerprint, postgresRows, postgresStateBytes } from './postgres.js';
import { openTestStore } from './store.js';

/** Options a test may pass: the SQLite engine's; the PostgreSQL engine takes those it shares (maxQueue, the payload limits, decodeCacheBytes). */
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
  /** Everything in the store's database, hashed: to prove a refused call changed nothing. */
  fingerprint(store: Store): Promise<string>;
  /**
   * Rows of a query (written in SQL both engines take) run on the store's database from
   * outside, read-only: columns as the store decodes them (timestamps as ISO strings,
   * integers as numbers, JSON as its text).
   */
  rows(store: Store, sql: string): Promise<Record<string, unknown>[]>;
  /** The session's state size as the engine checks it against maxStateBytes. */
  stateBytes(store: Store, id: string): Promise<number>;
  /**
   * Whether the engine can store a value: PostgreSQL refuses the NUL character and lone
   * UTF-16 surrogates in text and JSON (INVALID_ARGUMENT), which SQLite keeps.
   */
  canHold(value: unknown): boolean;
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

/** Reads a SQLite store's file from outside, read-only. */
function withSqliteFile<T>(store: Store, read: (db: Database.Database) => T): T {
  const db = new Database(store.path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The tables, each with the order that lists its rows the same way every time (WITHOUT ROWID tables: their key). */
const SQLITE_TABLES: readonly (readonly [table: string, order: string])[] = [
  'sessions',
  'session_events',
  'memory_entries',
  'document_index',
  'tasks',
  'agents',
  'state',
  'audit',
  'metrics',
  'checkpoints',
  // The adapters' (adk_memory_fts keeps no text: its rows are found through memory_entries).
  'lg_checkpoints',
  'lg_checkpoint_blobs',
  'lg_checkpoint_writes',
  'lg_store',
  'lg_store_vectors',
]
  .map((table): readonly [string, string] => [table, 'rowid'])
  .concat([
    ['session_trimmed_event_ids', 'session_id, event_id'],
    ['adk_sessions', 'app_name, user_id, id'],
    ['adk_app_states', 'app_name'],
    ['adk_user_states', 'app_name, user_id'],
  ]);

const sqliteFile = {
  native: sqliteNative,
  fingerprint: async (store: Store): Promise<string> =>
    withSqliteFile(store, (db) => {
      const hash = createHash('sha256');
      hash.update(JSON.stringify(db.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all()));
      for (const [table, order] of SQLITE_TABLES) {
        for (const row of db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).raw().iterate()) {
          hash.update(JSON.stringify(row, (_, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
        }
      }
      return hash.digest('hex');
    }),
  rows: async (store: Store, sql: string): Promise<Record<string, unknown>[]> =>
    withSqliteFile(store, (db) => db.prepare(sql).all() as Record<string, unknown>[]),
  stateBytes: async (store: Store, id: string): Promise<number> =>
    withSqliteFile(store, (db) => db.prepare('SELECT octet_length(state) FROM sessions WHERE id = ?').pluck().get(id) as number),
  canHold: (): boolean => true,
};

/** NUL and lone surrogates, as JSON.stringify escapes them (a valid pair is written as is). */
const UNHOLDABLE = /\\u(0000|d[89a-f][0-9a-f]{2})/i;

const postgres: TestEngine = {
  name: 'postgres',
  open: (options = {}) => {
    const { maxQueue, maxPayloadBytes, maxStateBytes, decodeCacheBytes, telemetry } = options;
    return openPostgresTestStore({
      ...(decodeCacheBytes === undefined ? {} : { decodeCacheBytes }),
      ...(maxQueue === undefined ? {} : { maxQueue }),
      ...(telemetry === undefined ? {} : { telemetry }),
      ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
      ...(maxStateBytes === undefined ? {} : { maxStateBytes }),
    });
  },
  native(sqliteCode) {
    const pgCode = SQLSTATE_FOR[sqliteCode];
    if (pgCode === undefined) throw new Error(`no SQLSTATE known for ${sqliteCode}: add it to SQLSTATE_FOR`);
    return { pgCode };
  },
  fingerprint: (store) => postgresFingerprint(store),
  rows: (store, sql) => postgresRows(store, sql),
  stateBytes: (store, id) => postgresStateBytes(store, id),
  canHold: (value) => !UNHOLDABLE.test(JSON.stringify(value) ?? ''),
};

/**
 * The engines every domain test runs on. SQLite runs in-process (the same catalogue and
 * executors as its threads, which coverage can see); PostgreSQL on the run's server.
 */
export const ENGINES: readonly TestEngine[] = [
  { name: 'sqlite', open: async (options) => openInProcessStore(options), ...sqliteFile },
  postgres,
];

/** The engines with SQLite on its real threads: for tests of concurrency through the whole store. */
export const THREADED_ENGINES: readonly TestEngine[] = [{ name: 'sqlite', open: (options) => openTestStore(options), ...sqliteFile }, postgres];

/**
 * `ABATHUR_TEST_ENGINES=sqlite` runs the suites on the engines named (comma-separated)
 * only: the mutation run (vitest.mutate.config.ts) mutates SQLite's engine and starts no
 * PostgreSQL server. Unset (`npm test`), every engine runs.
 */
const ONLY = process.env.ABATHUR_TEST_ENGINES?.split(',');

/**
 * One suite, two engines: runs `body` once per engine, as `title [sqlite]` and
 * `title [postgres]`. `threads` picks SQLite's threaded store over the in-process one.
 */
export function describeEachEngine(title: string, body: (engine: TestEngine) => void, options: { threads?: boolean } = {}): void {
  for (const engine of options.threads === true ? THREADED_ENGINES : ENGINES) {
    if (ONLY !== undefined && !ONLY.includes(engine.name)) continue;
    describe(`${title} [${engine.name}]`, () => body(engine));
  }
}
