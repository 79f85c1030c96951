import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { reapStale, startPostgres, type PostgresServer } from '../bench/postgres-server.js';
import { migrate } from '../src/postgres/schema.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's PostgreSQL server, at its template database (never connect to it: it is cloned). */
    pgTemplateUrl: string;
  }
}

/** The template every PostgreSQL test database is cloned from: the store's schema, applied once per run. */
export const PG_TEMPLATE = 'abathur_template';

let server: PostgresServer | undefined;
let runTmp: string | undefined;

/**
 * Starts one PostgreSQL server for the whole run and applies the store's schema to a
 * template database; each test clones the template (a file copy, tens of milliseconds).
 */
export async function setup(project: TestProject): Promise<void> {
  // The run's temporary directory (test/helpers/temp.ts): whatever a test leaves in it,
  // from a cleanup that never ran (a hook's, a killed worker's), is removed at teardown.
  runTmp = mkdtempSync(join(tmpdir(), 'abathur-run-'));
  process.env.ABATHUR_TEST_TMP = runTmp;
  reapStale();
  server = await startPostgres({ database: PG_TEMPLATE });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await migrate(client, 'abathur');
  } finally {
    await client.end();
  }
  project.provide('pgTemplateUrl', server.url);
  // Child processes started by tests (several hosts on one database) find it here too.
  process.env.ABATHUR_TEST_PG_URL = server.url;
}

export async function teardown(): Promise<void> {
  try {
    await server?.stop();
  } finally {
    if (runTmp !== undefined) rmSync(runTmp, { recursive: true, force: true });
  }
}
