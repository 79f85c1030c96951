import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store } from '../../src/api/store.js';
import type { PostgresStoreOptions } from '../../src/api/options.js';
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

/** A store on a fresh PostgreSQL database, closed (then the database dropped) when the test finishes. */
export async function openPostgresTestStore(options: Partial<PostgresStoreOptions> = {}): Promise<Store> {
  const url = await freshPostgresUrl();
  const store = await openStore({ url, ...options });
  cleanup(() => store.close().catch(() => {}));
  return store;
}

/** A plain node-postgres connection (default type parsing), ended when the test finishes. */
export async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  cleanup(() => client.end().catch(() => {}));
  return client;
}
