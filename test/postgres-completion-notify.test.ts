import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { channels } from '../src/postgres/listener.js';
import { openStore, type Store } from '../src/store.js';
import { openPostgresTestStore, urlOf } from './helpers/postgres.js';

// Migration 006: a completion notifies the agent types of the pending tasks that depend on
// it, and nothing when none does; a dependent created while its dependency completes is
// not missed.

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close().catch(() => {})));
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  closers.push(() => client.end());
  return client;
}

/** A LISTEN on the store's tasks channel; `upTo(marker)` sends a marker and returns the payloads heard before it. */
async function listen(store: Store) {
  const url = urlOf(store);
  const channel = channels('abathur').tasks;
  const listener = await connect(url);
  const sender = await connect(url);
  const heard: string[] = [];
  listener.on('notification', (message) => {
    if (message.channel === channel) heard.push(message.payload ?? '');
  });
  await listener.query(`LISTEN "${channel}"`);
  return {
    heard,
    upTo: async (marker: string): Promise<string[]> => {
      await sender.query('SELECT pg_notify($1, $2)', [channel, marker]);
      await vi.waitFor(() => expect(heard).toContain(marker));
      return heard.splice(0, heard.indexOf(marker) + 1).slice(0, -1);
    },
  };
}

describe('PostgreSQL completion notifications (migration 006)', () => {
  it('a completion notifies the agent types of its pending dependents, and nothing when it has none', async () => {
    const store = await openPostgresTestStore();
    const { upTo } = await listen(store);
    await store.tasks.create({ id: 'alone', prompt: 'p', inputData: {}, agentType: 'coder' });
    await store.tasks.create({ id: 'code', prompt: 'p', inputData: {}, agentType: 'coder' });
    await store.tasks.create({ id: 'review', prompt: 'p', inputData: {}, agentType: 'reviewer', dependencies: ['code'] });
    await store.tasks.create({ id: 'docs', prompt: 'p', inputData: {}, agentType: 'writer', dependencies: ['code', 'alone'] });
    await store.tasks.create({ id: 'lint', prompt: 'p', inputData: {}, agentType: 'reviewer', dependencies: ['code'] });
    expect(await upTo('created')).toEqual(['coder', 'coder', 'reviewer', 'writer', 'reviewer']);
    for (let i = 0; i < 2; i++) await store.tasks.claimNext({ agentType: 'coder' });
    await store.tasks.complete('code', 'ok');
    expect((await upTo('code completed')).sort()).toEqual(['reviewer', 'writer']);
    // 'docs' still waits on 'alone': it is pending, so 'alone' notifies its type.
    await store.tasks.complete('alone', 'ok');
    expect(await upTo('alone completed')).toEqual(['writer']);
    // Its dependents running, a completion notifies nothing: only the create of 'last' was heard.
    await store.tasks.create({ id: 'last', prompt: 'p', inputData: {}, agentType: 'coder' });
    await store.tasks.claimNext({ agentType: 'coder' });
    await store.tasks.claimNext({ agentType: 'reviewer' });
    await store.tasks.complete('last', 'ok');
    expect(await upTo('last completed')).toEqual(['coder']);
  });

  it("wakes another store's parked claim of another agent type when a dependency completes", async () => {
    const store = await openPostgresTestStore();
    const other = await openStore({ url: urlOf(store) });
    closers.push(() => other.close());
    await other.tasks.create({ id: 'code', prompt: 'p', inputData: {}, agentType: 'coder' });
    await other.tasks.create({ id: 'review', prompt: 'p', inputData: {}, agentType: 'reviewer', dependencies: ['code'] });
    const waiting = store.tasks.claimNext({ waitMs: 60_000, agentType: 'reviewer' });
    await sleep(200);
    await other.tasks.claimNext({ agentType: 'coder' });
    await other.tasks.complete('code', 'ok');
    expect(await Promise.race([waiting.then((t) => t?.id), sleep(5_000).then(() => 'still parked')])).toBe('review');
  });

  it('a dependent created while its dependency completes is notified after the completion commits', async () => {
    const store = await openPostgresTestStore();
    const { upTo } = await listen(store);
    await store.tasks.create({ id: 'code', prompt: 'p', inputData: {}, agentType: 'coder' });
    await store.tasks.claimNext({ agentType: 'coder' });
    await upTo('set up');
    // The dependent's insert, not yet committed, holds its dependency: the completion waits for it.
    const inserting = await connect(urlOf(store));
    await inserting.query('BEGIN');
    await inserting.query(
      "INSERT INTO abathur.tasks (id, prompt, agent_type, input_data, dependencies) VALUES ('review', 'p', 'reviewer', '{}', '[\"code\"]')",
    );
    let completed = false;
    const completing = store.tasks.complete('code', 'ok').then(() => (completed = true));
    await sleep(300);
    expect(completed).toBe(false);
    await inserting.query('COMMIT');
    await completing;
    // The insert's notification, then the completion's for the dependent it now sees.
    expect(await upTo('done')).toEqual(['reviewer', 'reviewer']);
  });

  it('a session of another tool, with its own search_path, completes a task by its qualified name and the dependents are notified', async () => {
    const store = await openPostgresTestStore();
    const { upTo } = await listen(store);
    await store.tasks.create({ id: 'code', prompt: 'p', inputData: {}, agentType: 'coder' });
    await store.tasks.create({ id: 'review', prompt: 'p', inputData: {}, agentType: 'reviewer', dependencies: ['code'] });
    await upTo('created');
    const tool = await connect(urlOf(store));
    await tool.query('SET search_path = public');
    await tool.query("UPDATE abathur.tasks SET status = 'completed' WHERE id = 'code'");
    expect(await upTo('completed')).toEqual(['reviewer']);
  });
});
