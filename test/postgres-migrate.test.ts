import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/api/store.js';
import { main, type CliIo } from '../src/cli/cli.js';
import { postgresMigrations } from '../src/postgres/schema.js';
import { freshEmptyPostgresUrl, pgClient } from './helpers/postgres.js';
import { cleanup, tempDbPath } from './helpers/temp.js';
import { createV1Database } from './helpers/v1-database.js';

function capture(interactive = false): CliIo & { text(): string; errors(): string; bars: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const bars: string[] = [];
  return {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    interactive,
    progress: (line, done) => bars.push(`${line}${done ? ' (done)' : ''}`),
    text: () => out.join('\n'),
    errors: () => err.join('\n'),
    bars,
  };
}

/** A SQLite store with rows in every table, closed; returns its path and what a reader of it sees. */
/** A source file made by {@link sourceStore}, then changed by `sql` straight in the file. */
async function sourceStoreThen(sql: string): Promise<string> {
  const path = tempDbPath();
  await sourceStore(path);
  const db = new Database(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
  return path;
}

async function sourceStore(path: string): Promise<void> {
  const store = await openStore({ path });
  try {
    const s1 = await store.sessions.create({ id: 's1', appName: 'planner', userId: 'alice', projectId: 'p1', state: { a: { b: 1 } }, metadata: { tier: 'pro' } });
    await store.sessions.create({ id: 's2', appName: 'coder', userId: 'alice' });
    for (let i = 0; i < 25; i++) {
      await store.sessions.appendEvent(s1.id, { i, text: `event ${i}` }, { eventId: i % 5 === 0 ? `e${i}` : undefined, stateDelta: { step: i } });
    }
    await store.sessions.appendEvents('s2', [{ event: 'x', eventId: 'x1' }, { event: [1, 2, { y: null }] }]);
    await store.sessions.trimEvents(s1.id, { keepLast: 20 });
    await store.sessions.setStatus('s2', 'active');
    await store.memory.add({ namespace: 'user:alice', key: 'theme', value: 'dark', type: 'semantic', createdBy: 'agent' });
    await store.memory.update('user:alice', 'theme', 'light', { updatedBy: 'agent2' });
    await store.memory.add({ namespace: 'session:s1', key: 'k', value: { deep: [1, 2] }, type: 'episodic' });
    await store.memory.delete('session:s1', 'k');
    await store.documents.upsert({ filePath: 'docs/a.md', title: 'A', contentHash: 'h1', documentType: 'design', metadata: { lang: 'en' } });
    await store.documents.markSynced('docs/a.md', { embedding: new Float32Array([0.5, -1.25, 3e-8, 3.4e38]), embeddingModel: 'm1' });
    await store.documents.upsert({ filePath: 'docs/b.md', title: 'B', contentHash: 'h2' });
    const parent = await store.tasks.create({ id: 't1', prompt: 'parent', inputData: { n: 1 }, sessionId: 's1', priority: 2 });
    await store.tasks.create({ id: 't2', prompt: 'child', inputData: [], parentTaskId: parent.id, dependencies: ['t1'] });
    await store.tasks.claimNext();
    await store.tasks.complete('t1', { ok: true });
    await store.agents.spawn({ id: 'a1', name: 'n', specialization: 's', taskId: 't1', model: 'm', sessionId: 's1', resourceUsage: { tokens: 3 } });
    await store.agents.setState('a1', 'working');
    await store.checkpoints.save({ taskId: 't1', iteration: 0, state: { x: 1 }, sessionId: 's1' });
    await store.checkpoints.save({ taskId: 't1', iteration: 1, state: { x: 2 } });
    await store.state.set('t1', 'k', { v: 1 });
    await store.metrics.record('latency_ms', 12.5, { labels: { op: 'get' } });
    await store.metrics.record('tokens', 100);
  } finally {
    await store.close();
  }
}

/** Everything a store's reads return, for comparing two stores. */
async function everything(store: Store): Promise<unknown> {
  const all = async <T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | undefined }>): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const p = await page(cursor);
      items.push(...p.items);
      cursor = p.nextCursor;
    } while (cursor !== undefined);
    return items;
  };
  return {
    sessions: await all((cursor) => store.sessions.listByUser('alice', { limit: 1, ...(cursor === undefined ? {} : { cursor }) })),
    events: await all((cursor) => store.sessions.events('s1', { limit: 7, ...(cursor === undefined ? {} : { cursor }) })),
    memory: await all((cursor) => store.memory.history('user:alice', 'theme', { limit: 1, ...(cursor === undefined ? {} : { cursor }) })),
    deletedMemory: await store.memory.history('session:s1', 'k'),
    search: await store.memory.search({ namespacePrefix: 'user' }),
    documents: [await store.documents.get('docs/a.md'), await store.documents.get('docs/b.md')],
    pending: await store.documents.pendingSync(),
    tasks: [await store.tasks.getWithSession('t1'), await store.tasks.get('t2'), await store.tasks.listChildren('t1')],
    agents: await store.agents.listBySession('s1'),
    checkpoints: await store.checkpoints.list('t1'),
    state: await store.state.get('t1', 'k'),
    audit: await all((cursor) => store.audit.list({ limit: 9, ...(cursor === undefined ? {} : { cursor }) })),
    metrics: [await store.metrics.query({ name: 'latency_ms' }), await store.metrics.query({ name: 'tokens' })],
  };
}

/** Cursors encode engine-specific positions: compare pages without them. */
const withoutCursors = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (k, v: unknown) => (k === 'nextCursor' ? undefined : v instanceof Float32Array ? [...v] : v)));

describe('migrate --from <sqlite> --to <postgres>', () => {
  it('copies every table: the PostgreSQL store reads back exactly what the SQLite one did, and carries on', async () => {
    const path = tempDbPath();
    await sourceStore(path);
    const sqlite = await openStore({ path });
    const before = await everything(sqlite);
    await sqlite.close();

    const url = await freshEmptyPostgresUrl();
    const io = capture();
    expect(await main(['migrate', '--from', path, '--to', url], io)).toBe(0);
    expect(io.text()).toMatch(/copying .* into schema "abathur" on postgres:\/\/abathur:\*\*\*@/);
    expect(io.text()).toMatch(/session_events\s+22\s+22/);
    // e0, trimmed from s1 with the first five events.
    expect(io.text()).toMatch(/session_trimmed_event_ids\s+1\s+1/);
    expect(io.text()).toMatch(/audit\s+(\d+)\s+\1/);
    expect(io.text()).toContain('every table holds as many rows on both sides');
    expect(io.text()).not.toContain('abathur:abathur@');

    const postgres = await openStore({ url });
    cleanup(() => postgres.close());
    expect(withoutCursors(await everything(postgres))).toEqual(withoutCursors(before));
    // New rows continue after the copied ones: identities, seqs, creation order.
    const { seq } = await postgres.sessions.appendEvent('s1', 'after the move');
    expect(seq).toBe(26);
    expect(await postgres.sessions.appendEvent('s1', 'again', { eventId: 'e5' })).toMatchObject({ seq: 6 });
    expect(await postgres.sessions.appendEvent('s1', 'again', { eventId: 'e0' })).toMatchObject({ seq: 1, eventCount: 26 });
    const metric = await postgres.metrics.record('tokens', 1);
    expect(metric.id).toBe(3);
    await postgres.tasks.create({ id: 't3', prompt: 'new child', inputData: {}, parentTaskId: 't1' });
    expect((await postgres.tasks.listChildren('t1')).items.map((t) => t.id)).toEqual(['t2', 't3']);
    expect((await postgres.check()).ok).toBe(true);

    // Into a schema that holds rows: refused, nothing changed.
    const again = capture();
    expect(await main(['migrate', '--from', path, '--to', url], again)).toBe(1);
    expect(again.errors()).toMatch(/INVALID_STATE: the target schema "abathur" .* already holds rows \(sessions, session_events/);
  });

  it('draws a progress bar on a terminal', async () => {
    const path = tempDbPath();
    await sourceStore(path);
    const io = capture(true);
    expect(await main(['migrate', '--from', path, '--to', await freshEmptyPostgresUrl(), '--schema', 'moved'], io)).toBe(0);
    expect(io.bars).toContain('session_events   [##############################] 22 / 22 (done)');
    expect(io.bars.some((bar) => /^memory_entries {3}\[\.{30}\] 0 \/ 3$/.test(bar))).toBe(true);
  });

  it('leaves the target as it was when a row cannot be copied, and names the table', async () => {
    // Text PostgreSQL cannot hold (NUL), written straight into the file.
    const path = await sourceStoreThen("UPDATE tasks SET prompt = 'a' || char(0) || 'b' WHERE id = 't2'");
    const url = await freshEmptyPostgresUrl();
    const io = capture();
    expect(await main(['migrate', '--from', path, '--to', url], io)).toBe(1);
    expect(io.errors()).toMatch(/INVALID_ARGUMENT: tasks: PostgreSQL refused a batch of 2 rows after 0 copied/);
    const client = await pgClient(url);
    const { rows } = await client.query('SELECT (SELECT count(*)::int FROM abathur.sessions) AS sessions, (SELECT count(*)::int FROM abathur.schema_version) AS versions');
    // The schema was made (every migration), then the copy rolled back.
    expect(rows[0]).toEqual({ sessions: 0, versions: postgresMigrations().length });
  });

  it('refuses a file that holds LangGraph or ADK data, which PostgreSQL does not store, and copies nothing', async () => {
    const path = await sourceStoreThen("INSERT INTO adk_app_states (app_name, state) VALUES ('planner', '{}')");
    const url = await freshEmptyPostgresUrl();
    const io = capture();
    expect(await main(['migrate', '--from', path, '--to', url], io)).toBe(1);
    expect(io.errors()).toMatch(/INVALID_STATE: .* holds LangGraph or ADK data \(adk_app_states\), which the PostgreSQL engine does not store: nothing was copied/);
    const client = await pgClient(url);
    const { rows } = await client.query("SELECT to_regclass('abathur.sessions') IS NOT NULL AS created");
    expect(rows[0]).toEqual({ created: false });
  });

  it('refuses a file at an older schema version, a missing file, and half the arguments', async () => {
    const old = tempDbPath();
    createV1Database(old, [{ id: 's', events: [1] }]);
    const url = await freshEmptyPostgresUrl();
    const io = capture();
    expect(await main(['migrate', '--from', old, '--to', url], io)).toBe(1);
    expect(io.errors()).toMatch(/is at schema version 1, not this library's \d+: run `abathur-store migrate .*` first/);
    const missing = capture();
    expect(await main(['migrate', '--from', tempDbPath(), '--to', url], missing)).toBe(1);
    expect(missing.errors()).toContain('file does not exist');
    const half = capture();
    expect(await main(['migrate', '--from', old], half)).toBe(2);
    expect(half.errors()).toContain('takes both');
    const notUrl = capture();
    expect(await main(['migrate', '--from', old, '--to', './other.db'], notUrl)).toBe(2);
    expect(notUrl.errors()).toContain('--to must be a PostgreSQL URL');
  });
});
