import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store } from '../../src/store.js';
import type { PostgresStoreOptions } from '../../src/api/options.js';
import { loadPg, storeTypes } from '../../src/postgres/driver.js';
import { cleanup } from './temp.js';

let admin: Promise<pg.Client> | undefined;
let counter = 0;

/** One connection per test file to the server's `postgres` database, for CREATE and DROP DATABASE. */
function adminClient(): Promise<pg.Client> {
  admin ??= (async () => {
    const url = new URL(inject('pgTemplateUrl'));
    url.pathname = '/postgres';
    const client = new pg.Client({ connectionString: url.href });
    client.on('error', () => {});
    await client.connect();
    return client;
  })();
  return admin;
}

/** The template database's name (never connected to: cloning needs it idle). */
const templateName = (): string => new URL(inject('pgTemplateUrl')).pathname.slice(1);

/**
 * A fresh database with the store's schema for this test, dropped when the test ends
 * (from a beforeAll hook: when the file's process exits). Returns its URL.
 */
export async function freshPostgresUrl(): Promise<string> {
  return createDatabase(templateName());
}

/** A fresh, empty database (no store schema) for this test, dropped when it ends. */
export function freshEmptyPostgresUrl(): Promise<string> {
  return createDatabase('template0');
}

async function createDatabase(template: string): Promise<string> {
  const client = await adminClient();
  const name = `t_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  await client.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
  cleanup(async () => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  });
  const url = new URL(inject('pgTemplateUrl'));
  url.pathname = `/${name}`;
  return url.href;
}

const urls = new WeakMap<Store, string>();

/** A store on a fresh PostgreSQL database, closed (then the database dropped) when the test finishes. */
export async function openPostgresTestStore(options: Partial<PostgresStoreOptions> = {}): Promise<Store> {
  const url = await freshPostgresUrl();
  const store = await openStore({ url, ...options });
  urls.set(store, url);
  cleanup(() => store.close().catch(() => {}));
  return store;
}

/** The URL (password included) of a store opened by {@link openPostgresTestStore}. */
export function urlOf(store: Store): string {
  const url = urls.get(store);
  if (url === undefined) throw new Error('not a store opened by openPostgresTestStore');
  return url;
}

/** The tables of the store's schema and the order that lists each one's rows the same way every time. */
const TABLE_ORDER: Readonly<Record<string, string>> = {
  sessions: 'id',
  session_events: 'session_id, seq',
  session_trimmed_event_ids: 'session_id, event_id',
  memory_entries: 'id',
  document_index: 'id',
  tasks: 'id',
  agents: 'id',
  state: 'id',
  audit: 'id',
  metrics: 'id',
  checkpoints: 'task_id, iteration',
  lg_checkpoints: 'thread_id, checkpoint_ns, checkpoint_id',
  lg_checkpoint_blobs: 'thread_id, checkpoint_ns, channel, version',
  lg_checkpoint_writes: 'thread_id, checkpoint_ns, checkpoint_id, task_id, idx',
  lg_store: 'namespace, key',
  lg_store_vectors: 'namespace, key, field',
  adk_sessions: 'app_name, user_id, id',
  adk_app_states: 'app_name',
  adk_user_states: 'app_name, user_id',
  adk_memory_fts: 'entry_id',
};

const clients = new WeakMap<Store, Promise<pg.Client>>();

/** One plain connection per test store, for looking at its database from outside. */
function clientOf(store: Store): Promise<pg.Client> {
  const known = clients.get(store);
  if (known !== undefined) return known;
  const connecting = pgClient(urlOf(store));
  clients.set(store, connecting);
  return connecting;
}

/**
 * Everything in a store's PostgreSQL schema, hashed on the server in one statement: its
 * columns and every row of every table, in a fixed order.
 */
export async function postgresFingerprint(store: Store, schema = 'abathur'): Promise<string> {
  const client = await clientOf(store);
  const tables = Object.entries(TABLE_ORDER).map(
    ([table, order]) => `(SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY ${order}), '') FROM ${schema}.${table} AS t)`,
  );
  const { rows } = await client.query<{ hash: string }>(
    'SELECT md5(concat_ws(E\'\\n\', (SELECT string_agg(table_name || \'.\' || column_name || \' \' || data_type, \',\' ORDER BY 1) ' +
      `FROM information_schema.columns WHERE table_schema = $1), ${tables.join(', ')})) AS hash`,
    [schema],
  );
  return rows[0]!.hash;
}

const typedClients = new WeakMap<Store, Promise<pg.Client>>();

/**
 * Rows of a query on a store's schema, from a connection of the test's own that decodes
 * columns as the store's pool does (src/postgres/driver.ts): timestamps as ISO strings,
 * int8 as numbers, json and jsonb as their text.
 */
export async function postgresRows(store: Store, sql: string, schema = 'abathur'): Promise<Record<string, unknown>[]> {
  let connecting = typedClients.get(store);
  if (connecting === undefined) {
    connecting = (async () => {
      const client = new pg.Client({ connectionString: urlOf(store), options: `-c search_path=${schema}`, types: storeTypes(await loadPg()) });
      client.on('error', () => {});
      await client.connect();
      cleanup(() => client.end().catch(() => {}));
      return client;
    })();
    typedClients.set(store, connecting);
  }
  const { rows } = await (await connecting).query<Record<string, unknown>>(sql);
  return rows;
}

/** The session's state as PostgreSQL measures it against maxStateBytes: its jsonb text. */
export async function postgresStateBytes(store: Store, id: string, schema = 'abathur'): Promise<number> {
  const client = await clientOf(store);
  const { rows } = await client.query<{ n: number }>(`SELECT octet_length(state::text) AS n FROM ${schema}.sessions WHERE id = $1`, [id]);
  return rows[0]!.n;
}

/** A plain node-postgres connection (default type parsing), ended when the test finishes. */
export async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  cleanup(() => client.end().catch(() => {}));
  return client;
}
