import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolvePostgresOptions } from '../src/api/options.js';
import { openStore } from '../src/store.js';
import { adapterOperations, operations } from '../src/catalogue/index.js';
import { formatCheckReport } from '../src/diagnostics/check-report.js';
import { AbathurMemoryService, AbathurSessionService } from '../src/adk/index.js';
import { AbathurSaver, AbathurStore } from '../src/langgraph/index.js';
import { PG_ACCEPTED_PLANS, PG_TRIGGER_STATEMENTS } from '../src/postgres/check.js';
import { pgImplementations } from '../src/postgres/operations/index.js';
import { migrate, postgresMigrations, postgresSchemaVersion } from '../src/postgres/schema.js';
import { freshEmptyPostgresUrl, freshPostgresUrl, openPostgresTestStore, pgClient } from './helpers/postgres.js';
import { populatePostgres } from './helpers/populate-postgres.js';
import { tempDbPath, tempDir } from './helpers/temp.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the PostgreSQL engine', () => {
  it('implements every operation of the store’s services and of the framework adapters, by the catalogue’s own operation objects', () => {
    const implemented = new Map(pgImplementations.map((implementation) => [implementation.operation.name, implementation]));
    expect(operations.filter((operation) => !implemented.has(operation.name)).map((operation) => operation.name)).toEqual([]);
    expect(adapterOperations.length).toBeGreaterThan(0);
    expect(implemented.size).toBe(pgImplementations.length);
    expect(implemented.size).toBe(operations.length);
    for (const operation of operations) {
      const implementation = implemented.get(operation.name)!;
      expect(implementation.operation).toBe(operation);
      expect(implementation.mode === 'write').toBe(operation.kind === 'write');
    }
  });

  it('is never loaded by a store on a SQLite file, and is loaded for a url', () => {
    // A resolve hook that refuses `pg` and the engine's own modules, in a child process
    // (registered on the main thread; the store's worker threads never import either).
    const dir = tempDir();
    const hook = join(dir, 'forbid-postgres.mjs');
    writeFileSync(
      hook,
      "import { register } from 'node:module';\nimport { isMainThread } from 'node:worker_threads';\n" +
        "if (isMainThread) register('data:text/javascript,' + encodeURIComponent(`export async function resolve(s, c, next) {" +
        " const r = await next(s, c); if (s === 'pg' || s.startsWith('pg/') || r.url.includes('/dist/src/postgres/')) throw new Error('LOADED ' + s); return r; }`));\n",
    );
    const run = (options: object) => {
      const script = join(dir, `open-${Math.random().toString(36).slice(2)}.mjs`);
      writeFileSync(
        script,
        `import { openStore } from ${JSON.stringify(join(root, 'dist/src/index.js'))};\n` +
          `try { const store = await openStore(${JSON.stringify(options)}); await store.sessions.create({ appName: 'a', userId: 'u' }); await store.close(); console.log('OPENED'); }\n` +
          "catch (error) { console.log('FAILED', error.message); }\n",
      );
      return spawnSync(process.execPath, ['--import', hook, script], { encoding: 'utf8', timeout: 30_000 });
    };
    const sqlite = run({ path: join(dir, 'store.db') });
    expect(sqlite.stdout).toContain('OPENED');
    // The negative control: the same hook does refuse the PostgreSQL path.
    const postgres = run({ url: 'postgres://nobody@127.0.0.1:9/none' });
    expect(postgres.stdout).toContain('FAILED LOADED');
  });

  it('checks its options once, with messages that teach', () => {
    expect(resolvePostgresOptions({ url: 'postgres://u:secret@db.internal/agents' })).toMatchObject({
      location: 'postgres://u:***@db.internal/agents',
      pool: { max: 10, connectionTimeoutMs: 10_000, idleTimeoutMs: 10_000 },
      maxQueue: 10_000,
      statementTimeoutMs: 30_000,
      schema: 'abathur',
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'mysql://x/y' }, 'options.url must be a PostgreSQL URL'],
      [{ url: 42 }, 'options.url must be a PostgreSQL URL'],
      [{ url: 'postgres://h/d', path: 'x.db' }, 'not both'],
      [{ url: 'postgres://h/d', readers: 2 }, 'options.readers applies to the SQLite engine only'],
      [{ url: 'postgres://h/d', pool: { max: 0 } }, 'options.pool.max must be an integer from 1 to 1000'],
      [{ url: 'postgres://h/d', pool: { Max: 3 } }, 'misspelled option "Max" should be "max"'],
      [{ url: 'postgres://h/d', schema: 'Bad-Name' }, 'options.schema must be a lower-case PostgreSQL identifier'],
      [{ url: 'postgres://h/d', statementTimeoutMs: -1 }, 'options.statementTimeoutMs must be an integer'],
      [{ url: 'postgres://h/d', poolSize: 3 }, 'unknown option "poolSize"'],
    ];
    for (const [options, message] of cases) {
      expect(() => resolvePostgresOptions(options), JSON.stringify(options)).toThrow(message);
    }
  });

  it('rejects an unreachable server with IO_ERROR, naming it without its password', async () => {
    const error = await openStore({ url: 'postgres://abathur:hunter2@127.0.0.1:9/none', pool: { connectionTimeoutMs: 2000 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('postgres://abathur:***@127.0.0.1:9/none') });
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('reports what it is and what its pool does', async () => {
    const store = await openPostgresTestStore({ pool: { max: 3 } });
    expect(store.engine).toBe('postgres');
    expect(store.path).toMatch(/^postgres:\/\/abathur:\*\*\*@127\.0\.0\.1:\d+\/t_/);
    await Promise.all(Array.from({ length: 6 }, () => store.sessions.create({ appName: 'a', userId: 'u' })));
    const stats = store.stats();
    expect(stats).toMatchObject({ engine: 'postgres', queues: { read: 0, write: 0 }, pool: { max: 3, waiting: 0 } });
    expect(stats.pool!.total).toBeGreaterThan(0);
    expect(stats.pool!.total).toBeLessThanOrEqual(3);
    expect(stats.latency['sessions.create']?.count).toBe(6);
  });

  it('refuses backup with INVALID_STATE (the server has its own tools) and closes: accepted calls finish, later ones get CLOSED', async () => {
    const store = await openPostgresTestStore();
    await expect(store.backup(tempDbPath('b.db'))).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('pg_dump') });
    const accepted = Array.from({ length: 20 }, (_, i) => store.sessions.create({ id: `s${i}`, appName: 'a', userId: 'u' }));
    const closing = store.close();
    await expect(store.sessions.get('s0')).rejects.toMatchObject({ code: 'CLOSED' });
    expect((await Promise.all(accepted)).map((s) => s.id)).toHaveLength(20);
    await closing;
    await expect(store.check()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses text PostgreSQL cannot hold (NUL) with INVALID_ARGUMENT and writes nothing', async () => {
    const store = await openPostgresTestStore();
    await expect(store.tasks.create({ id: 't', prompt: 'a\u0000b', inputData: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.memory.add({ namespace: 'user:a', key: 'k', value: 'x\u0000', type: 'semantic' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await store.tasks.get('t')).toBeUndefined();
    expect((await store.audit.list()).items).toEqual([]);
  });

  it('takes the framework adapters, on the tables its migrations 003 and 004 create', async () => {
    const store = await openPostgresTestStore();
    const saver = new AbathurSaver(store);
    const memory = new AbathurStore(store);
    const sessions = new AbathurSessionService(store);
    const memories = new AbathurMemoryService(store);
    expect(await saver.getTuple({ configurable: { thread_id: 't' } })).toBeUndefined();
    await memory.put(['users', 'alice'], 'prefs', { theme: 'dark' });
    expect((await memory.get(['users', 'alice'], 'prefs'))?.value).toEqual({ theme: 'dark' });
    const session = await sessions.createSession({ appName: 'a', userId: 'u', sessionId: 's' });
    expect((await sessions.getSession({ appName: 'a', userId: 'u', sessionId: session.id }))?.id).toBe('s');
    expect(await memories.searchMemory({ appName: 'a', userId: 'u', query: 'anything' })).toEqual({ memories: [] });
  });
});

describe('PostgreSQL migrations', () => {
  it('are applied once when several hosts start together, then found current', async () => {
    const url = await freshEmptyPostgresUrl();
    const clients = await Promise.all(Array.from({ length: 4 }, () => pgClient(url)));
    const results = await Promise.all(clients.map((client) => migrate(client, 'abathur')));
    // Each migration once, by whichever host took the lock first for it.
    const versions = postgresMigrations().map((m) => m.version);
    expect(versions.length).toBeGreaterThan(1);
    expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(versions);
    expect(results.every((r) => r.version === postgresSchemaVersion())).toBe(true);
    const { rows } = await clients[0]!.query('SELECT version, name FROM abathur.schema_version ORDER BY version');
    expect(rows).toEqual(postgresMigrations().map(({ version, name }) => ({ version, name })));
    expect(await migrate(clients[0]!, 'abathur')).toEqual({ applied: [], version: postgresSchemaVersion() });
    // Stores opened together on a fresh database agree too.
    const url2 = await freshEmptyPostgresUrl();
    const stores = await Promise.all(Array.from({ length: 3 }, () => openStore({ url: url2 })));
    await Promise.all(stores.map((store) => store.close()));
    const other = await pgClient(url2);
    expect((await other.query('SELECT count(*)::int AS n FROM abathur.schema_version')).rows[0]).toEqual({ n: versions.length });
  });

  it('bring a schema made by an older library up to date, its rows kept', async () => {
    // Version 1 as the first PostgreSQL release left it, with a session whose events carry ids.
    const url = await freshEmptyPostgresUrl();
    const client = await pgClient(url);
    await client.query('CREATE SCHEMA abathur');
    await client.query('SET search_path TO abathur');
    await client.query(postgresMigrations()[0]!.sql);
    await client.query("CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz(3) NOT NULL DEFAULT clock_timestamp())");
    await client.query("INSERT INTO schema_version (version, name) VALUES (1, '001_schema.sql')");
    await client.query("INSERT INTO sessions (id, app_name, user_id, event_count) VALUES ('s', 'a', 'u', 2)");
    await client.query(`INSERT INTO session_events (session_id, seq, event_id, event) VALUES ('s', 1, 'e1', '"one"'), ('s', 2, 'e2', '"two"')`);

    const store = await openStore({ url });
    try {
      expect((await store.check()).schemaVersion).toBe(postgresSchemaVersion());
      expect((await store.sessions.get('s'))?.events).toEqual(['one', 'two']);
      // Version 2 keeps the ids of trimmed events.
      await store.sessions.trimEvents('s', { keepLast: 1 });
      expect(await store.sessions.appendEvent('s', 'one again', { eventId: 'e1' })).toMatchObject({ seq: 1, eventCount: 2 });
    } finally {
      await store.close();
    }
    const { rows } = await client.query('SELECT version FROM abathur.schema_version ORDER BY version');
    expect(rows.map((r: { version: number }) => r.version)).toEqual(postgresMigrations().map((m) => m.version));
  });

  it('bring a store made by an older release up to date, each later migration once and in order, its rows kept', async () => {
    const url = await freshEmptyPostgresUrl();
    const client = await pgClient(url);
    // The release before the adapters' tables: the first migration only.
    const [first, ...later] = postgresMigrations();
    expect(await migrate(client, 'abathur', [first!])).toEqual({ applied: [first!.version], version: first!.version });
    await client.query("INSERT INTO abathur.sessions (id, app_name, user_id) VALUES ('kept', 'a', 'u')");
    const adapterTables = "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'abathur' AND (tablename LIKE 'lg\\_%' OR tablename LIKE 'adk\\_%')";
    expect((await client.query(adapterTables)).rows[0]).toEqual({ n: 0 });
    // This release's store opens it and applies the rest.
    const store = await openStore({ url });
    await store.close();
    const { rows } = await client.query('SELECT version FROM abathur.schema_version ORDER BY applied_at, version');
    expect(rows.map((r: { version: number }) => r.version)).toEqual([first!.version, ...later.map((m) => m.version)]);
    expect((await client.query(adapterTables)).rows[0]).toEqual({ n: 9 });
    expect((await client.query('SELECT id FROM abathur.sessions')).rows).toEqual([{ id: 'kept' }]);
    // And then it is current: nothing more to apply.
    expect(await migrate(client, 'abathur')).toEqual({ applied: [], version: postgresSchemaVersion() });
  });

  it('roll back a failing migration alone: the ones before it stay applied, and it is tried again at the next open', async () => {
    const url = await freshEmptyPostgresUrl();
    const client = await pgClient(url);
    const [first, ...later] = postgresMigrations();
    // A later migration that creates a table, made to fail at its end.
    const creating = later.find((m) => /CREATE TABLE/.test(m.sql))!;
    const broken = { ...creating, sql: `${creating.sql}\nSELECT 1 / 0;` };
    await expect(migrate(client, 'abathur', [first!, broken])).rejects.toMatchObject({ code: '22012' });
    const { rows } = await client.query('SELECT version FROM abathur.schema_version');
    expect(rows).toEqual([{ version: first!.version }]);
    // Nothing of the broken migration is left: its first table is not there.
    const created = /CREATE TABLE (\w+)/.exec(creating.sql)![1]!;
    expect((await client.query('SELECT to_regclass($1) AS t', [`abathur.${created}`])).rows[0]).toEqual({ t: null });
    expect((await migrate(client, 'abathur')).applied).toEqual(postgresMigrations().slice(1).map((m) => m.version));
  });

  it('refuses a schema newer than the library, and one that holds someone else’s tables', async () => {
    const url = await freshPostgresUrl();
    const client = await pgClient(url);
    await client.query("INSERT INTO abathur.schema_version (version, name) VALUES (999, '999_future.sql')");
    await expect(openStore({ url })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('version 999, newer') });
    const empty = await freshEmptyPostgresUrl();
    const other = await pgClient(empty);
    await other.query('CREATE SCHEMA abathur; CREATE TABLE abathur.sessions (id int)');
    await expect(openStore({ url: empty })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('choose another options.schema') });
    // Nothing was changed: still one table, no schema_version.
    expect((await other.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'abathur'")).rows[0]).toEqual({ n: 1 });
    // Its own schema, beside the foreign one.
    const store = await openStore({ url: empty, schema: 'agents' });
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    expect((await other.query('SELECT id FROM agents.sessions')).rows).toEqual([{ id: 's' }]);
    await store.close();
  });
});

describe('jsonb_merge_patch', () => {
  it('merges exactly as SQLite’s json_patch (RFC 7396)', async () => {
    const client = await pgClient(await freshPostgresUrl());
    const sqlite = new Database(':memory:');
    const patch = sqlite.prepare('SELECT json_patch(?, ?)').pluck();
    // PostgreSQL cannot hold NUL in text; everything else JSON can say is fair game.
    const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
    const object = fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 5 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
    await fc.assert(
      fc.asyncProperty(object, object, async (target, delta) => {
        const { rows } = await client.query<{ merged: unknown }>('SELECT abathur.jsonb_merge_patch($1::jsonb, $2::jsonb) AS merged', [
          JSON.stringify(target),
          JSON.stringify(delta),
        ]);
        expect(rows[0]!.merged).toEqual(JSON.parse(patch.get(JSON.stringify(target), JSON.stringify(delta)) as string));
      }),
      { numRuns: 200 },
    );
    sqlite.close();
  });
});

const SERVED_BY_OTHERS: Record<string, string> = {
  idx_sessions_pk: 'sessions_pkey',
  idx_memory_entries_pk: 'memory_entries_pkey',
  idx_document_index_pk: 'document_index_pkey',
  idx_document_file_path: 'document_index_file_path_key',
  idx_memory_conflict_detection: 'idx_memory_namespace_key_version',
  idx_state_task_key: 'state_task_id_key_key',
};

describe('check() on PostgreSQL', () => {
  it('passes a fresh store: 33 of 33 requirements, each duplicate served by what the table keeps', async () => {
    const store = await openPostgresTestStore();
    const report = await store.check();
    expect(report).toMatchObject({ engine: 'postgres', ok: true, integrity: ['ok'], foreignKeys: true, schemaVersion: postgresSchemaVersion(), expectedSchemaVersion: postgresSchemaVersion() });
    expect(report.indexesSatisfied).toBe(33);
    expect(Object.fromEntries(report.indexes.filter((f) => f.servedBy !== f.requirement).map((f) => [f.requirement, f.servedBy]))).toEqual(
      SERVED_BY_OTHERS,
    );
    // Beyond the 33: the foreign key's and the event ids' of 001, the adapters' (003, 004), the leases' (005), the dependents' (006).
    expect(report.extraIndexes.sort()).toEqual([
      'idx_adk_memory_fts',
      'idx_adk_sessions_app_updated',
      'idx_adk_sessions_user_updated',
      'idx_checkpoints_session',
      'idx_session_events_event_id',
      'idx_tasks_lease_expiry',
      'idx_tasks_pending_dependencies',
      'lg_checkpoints_newest',
      'lg_checkpoints_thread_newest',
      'lg_store_expiry',
    ]);
    expect(report.plans!.length).toBe(pgImplementations.reduce((n, i) => n + Object.keys(i.statements).length, 1 + PG_TRIGGER_STATEMENTS.length));
    const text = formatCheckReport(report);
    expect(text).toContain('33 of 33 satisfied');
    expect(text).toContain('read no large table end to end');
    expect(text).toMatch(/result: ok$/);
  });

  it('names a dropped index, a changed one, and an invalid one', async () => {
    const url = await freshPostgresUrl();
    const store = await openStore({ url });
    const client = await pgClient(url);
    await client.query('DROP INDEX abathur.idx_audit_task');
    await client.query('DROP INDEX abathur.idx_tasks_running_timeout');
    await client.query("CREATE INDEX idx_tasks_running_timeout ON abathur.tasks (status, last_updated_at) WHERE status = 'pending'");
    await client.query('ALTER TABLE abathur.metrics ADD CONSTRAINT positive_id CHECK (id > 0) NOT VALID');
    const report = await store.check();
    await store.close();
    expect(report.ok).toBe(false);
    expect(report.indexesSatisfied).toBe(31);
    const problems = Object.fromEntries(report.indexes.filter((f) => !f.satisfied).map((f) => [f.requirement, f.problem]));
    expect(problems).toEqual({
      idx_audit_task: 'missing: no index on audit (task_id, timestamp DESC)',
      idx_tasks_running_timeout: expect.stringContaining("must have WHERE status = 'running'::text"),
    });
    expect(report.integrity).toEqual(['constraint positive_id on metrics is NOT VALID: existing rows were never checked']);
  });

  it('reports a statement the server cannot plan (its table gone) as failing, and checks the rest', async () => {
    const url = await freshPostgresUrl();
    const store = await openStore({ url });
    const client = await pgClient(url);
    await client.query('DROP TABLE abathur.metrics');
    const report = await store.check();
    await store.close();
    const failing = report.plans!.filter((plan) => !plan.ok);
    expect(failing.map((plan) => `${plan.operation}.${plan.statement}`).sort()).toEqual(['metrics.query.first', 'metrics.query.next', 'metrics.record.insert']);
    expect(failing[0]!.scans[0]).toMatch(/cannot be planned: relation "metrics" does not exist/);
    expect(report.plans!.filter((plan) => plan.ok).length).toBe(report.plans!.length - 3);
  });

  it('every statement reads no large table end to end on a populated, analysed database; without its index it would', async () => {
    const url = await freshPostgresUrl();
    await populatePostgres(url);
    const store = await openStore({ url });
    const report = await store.check();
    const failures = report.plans!.filter((plan) => !plan.ok).map((plan) => `${plan.operation}.${plan.statement}:\n  ${plan.plan.join('\n  ')}`);
    expect(failures).toEqual([]);
    expect(report.ok).toBe(true);
    // The adapters' statements are among those checked, and only the exceptions written
    // down in PG_ACCEPTED_PLANS pass for their reason.
    const adapterPlans = report.plans!.filter((plan) => /^(langgraph|adk)\./.test(plan.operation));
    expect(adapterPlans.length).toBe(
      pgImplementations.filter((i) => /^(langgraph|adk)\./.test(i.operation.name)).reduce((n, i) => n + Object.keys(i.statements).length, 0),
    );
    expect(report.plans!.filter((plan) => plan.accepted !== undefined).map((plan) => `${plan.operation}.${plan.statement}`).sort()).toEqual(
      Object.keys(PG_ACCEPTED_PLANS).sort(),
    );
    // The negative control: without its index, the metrics query walks the table, and so
    // does the LangGraph store's sweeper, looking for expired items.
    const client = await pgClient(url);
    await client.query('DROP INDEX abathur.idx_metrics_name_timestamp; DROP INDEX abathur.lg_store_expiry');
    const without = await store.check();
    await store.close();
    const metrics = without.plans!.filter((plan) => plan.operation === 'metrics.query');
    expect(metrics.map((plan) => plan.ok)).toEqual([false, false]);
    expect(metrics[0]!.scans.join(' ') + metrics[0]!.tempBtrees.join(' ')).toMatch(/Seq Scan on metrics|Sort/);
    const sweep = without.plans!.find((plan) => plan.operation === 'langgraph.store.sweep')!;
    expect(sweep.ok).toBe(false);
    expect(sweep.scans.join(' ')).toMatch(/Seq Scan on lg_store/);
  });
});

describe('PostgreSQL rows', () => {
  it('round-trip timestamps at millisecond precision, and JSON by value', async () => {
    const store = await openPostgresTestStore();
    const session = await store.sessions.create({ appName: 'a', userId: 'u', state: { b: [1, { c: null }], a: 'x' } });
    expect(session.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(session.state).toEqual({ a: 'x', b: [1, { c: null }] });
    const metric = await store.metrics.record('latency', 1.5);
    const page = await store.metrics.query({ name: 'latency', since: metric.timestamp, until: new Date(Date.parse(metric.timestamp) + 1) });
    expect(page.items.map((m) => m.id)).toEqual([metric.id]);
    expect(page.items[0]!.value).toBe(1.5);
  });
});
