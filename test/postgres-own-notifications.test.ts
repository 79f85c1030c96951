import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoreChange } from '../src/api/change-feed.js';
import { resolvePostgresOptions } from '../src/api/options.js';
import { createPool } from '../src/postgres/engine.js';
import { channels, pgListener } from '../src/postgres/listener.js';
import { OwnConnections } from '../src/postgres/own-connections.js';
import { createEvent } from '@google/adk';
import { AbathurSessionService } from '../src/adk/index.js';
import { openStore, type Store } from '../src/store.js';
import { freshPostgresUrl, openPostgresTestStore, urlOf } from './helpers/postgres.js';

// A store hears its own writes from its change feed; through LISTEN it must hear only
// other processes' (and other stores'), else each own write costs a waiter a second look.

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close().catch(() => {})));
});

/** A connected client's backend pid (node-postgres keeps it; its types do not say so). */
const pidOf = (client: pg.PoolClient): number => (client as unknown as { processID: number }).processID;

const claimLooks = (store: Store): number => store.stats().latency['tasks.claimNext']?.count ?? 0;

async function otherStore(store: Store): Promise<Store> {
  const other = await openStore({ url: urlOf(store) });
  closers.push(() => other.close());
  return other;
}

describe('OwnConnections', () => {
  const fakeClient = (processID: number) => Object.assign(new EventEmitter(), { processID });

  it('knows a connection by its pid while it lives, and forgets the pid once it ends (the server may give it to another process)', () => {
    const own = new OwnConnections();
    const client = fakeClient(4242);
    own.add(client);
    expect(own.reported(4242)).toBe(true);
    expect(own.reported(4243)).toBe(false);
    client.emit('end');
    expect(own.reported(4242)).toBe(false);
    expect(own.size).toBe(0);
  });

  it('a pid reused by a later connection of its own is not forgotten when the earlier one ends late', () => {
    const own = new OwnConnections();
    const first = fakeClient(7);
    const second = fakeClient(7);
    own.add(first);
    own.add(second);
    first.emit('end');
    expect(own.reported(7)).toBe(true);
  });

  it('lets a connection through while a write the feed does not report runs, until a barrier after it settles is answered', async () => {
    const own = new OwnConnections();
    const client = fakeClient(9);
    own.add(client);
    const connection = own.unreported(client as unknown as pg.PoolClient)!;
    expect(own.reported(9)).toBe(false);
    let answer!: () => void;
    own.barrier = () => new Promise<void>((resolve) => (answer = resolve));
    own.settled([connection]);
    await sleep(0);
    expect(own.reported(9)).toBe(false);
    answer();
    await vi.waitFor(() => expect(own.reported(9)).toBe(true));
    // Without a listener (no barrier) there is nothing to wait for.
    own.barrier = undefined;
    own.settled([own.unreported(client as unknown as pg.PoolClient)!]);
    expect(own.reported(9)).toBe(true);
  });
});

describe('the LISTEN connection', () => {
  async function setup() {
    const url = await freshPostgresUrl();
    const options = resolvePostgresOptions({ url });
    const pool = await createPool(options);
    closers.push(() => pool.end());
    const own = OwnConnections.of(pool);
    const heard: StoreChange[] = [];
    const watcher = pgListener(options, own)((change) => heard.push(change));
    closers.push(async () => watcher.stop());
    await watcher.ready;
    const foreign = new pg.Client({ connectionString: url });
    await foreign.connect();
    closers.push(() => foreign.end());
    const tasks = channels(options.schema).tasks;
    const notify = (client: pg.ClientBase, payload: string) => client.query('SELECT pg_notify($1, $2)', [tasks, payload]);
    // Notifications reach the listener in commit order: once a later foreign one is heard, the earlier one was dealt with.
    const heardUpTo = async (payload: string) => {
      await notify(foreign, payload);
      await vi.waitFor(() => expect(heard.some((c) => c.kind === 'external' && c.tasks?.agentType === payload)).toBe(true));
      return heard.filter((c) => c.kind === 'external').map((c) => (c.kind === 'external' ? c.tasks?.agentType : undefined));
    };
    return { pool, own, notify, heardUpTo, foreign };
  }

  it("drops its own pool's notifications and passes another connection's", async () => {
    const { pool, own, notify, heardUpTo } = await setup();
    const client = await pool.connect();
    try {
      expect(own.reported(pidOf(client))).toBe(true);
      await notify(client, 'own');
    } finally {
      client.release();
    }
    expect(await heardUpTo('foreign')).toEqual(['foreign']);
  });

  it('passes its own connection’s notifications while a write the feed does not report is open on it', async () => {
    const { pool, own, notify, heardUpTo } = await setup();
    const client = await pool.connect();
    try {
      const open = own.unreported(client)!;
      await notify(client, 'unreported');
      own.settled([open]);
      await notify(client, 'open-until-the-barrier');
    } finally {
      client.release();
    }
    const heard = await heardUpTo('foreign');
    expect(heard[0]).toBe('unreported');
    expect(heard).toContain('foreign');
  });

  it('passes a pid once its connection has ended', async () => {
    const { pool, own, heardUpTo } = await setup();
    const client = await pool.connect();
    const pid = pidOf(client);
    client.release(true);
    await vi.waitFor(() => expect(own.reported(pid)).toBe(false));
    expect(await heardUpTo('after')).toEqual(['after']);
  });
});

describe('a store on PostgreSQL', () => {
  it('does not wake its waiters a second time, through LISTEN, for its own writes', async () => {
    const store = await openPostgresTestStore();
    closers.push(() => store.close());
    const other = await otherStore(store);
    // A watch, woken only through LISTEN by the other store's event: by then every earlier notification has come.
    const { id: sessionId } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const watch = store.sessions.watch(sessionId)[Symbol.asyncIterator]();
    await store.tasks.create({ id: 'blocker', prompt: 'p', inputData: {}, agentType: 'b' });
    const waiting = store.tasks.claimNext({ waitMs: 60_000, agentType: 'a' });
    await vi.waitFor(() => expect(claimLooks(store)).toBe(1));
    // A task the waiter could take but for its dependency: the feed wakes it once, it looks and parks again.
    await store.tasks.create({ id: 'blocked', prompt: 'p', inputData: {}, agentType: 'a', dependencies: ['blocker'] });
    await other.sessions.appendEvent(sessionId, { n: 1 });
    expect((await watch.next()).value).toMatchObject({ seq: 1 });
    await sleep(50);
    // Its first look and the one the feed's wake-up caused: the notification of the same commit woke nobody.
    expect(claimLooks(store)).toBe(2);
    await watch.return?.();
    await other.tasks.create({ id: 'for-a', prompt: 'p', inputData: {}, agentType: 'a' });
    expect((await waiting)?.id).toBe('for-a');
  });

  it("is still woken by another store's commits: a parked claim and a watch", async () => {
    const store = await openPostgresTestStore();
    closers.push(() => store.close());
    const other = await otherStore(store);
    const { id: sessionId } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const watch = store.sessions.watch(sessionId)[Symbol.asyncIterator]();
    const waiting = store.tasks.claimNext({ waitMs: 60_000, agentType: 'a' });
    await vi.waitFor(() => expect(claimLooks(store)).toBe(1));
    // The store's own writes meanwhile (its connections are filtered) change nothing for the other's.
    await store.tasks.create({ id: 'mine', prompt: 'p', inputData: {}, agentType: 'b' });
    expect(await Promise.race([waiting.then(() => 'woken'), sleep(50).then(() => 'parked')])).toBe('parked');
    await other.sessions.appendEvent(sessionId, { n: 1 });
    expect((await watch.next()).value).toMatchObject({ seq: 1 });
    await other.tasks.create({ id: 'theirs', prompt: 'p', inputData: {}, agentType: 'a' });
    expect((await waiting)?.id).toBe('theirs');
    await watch.return?.();
  });

  it('still hears, through LISTEN, its own writes that the feed does not report: the ADK adapter appending to a watched session', async () => {
    const store = await openPostgresTestStore();
    closers.push(() => store.close());
    const service = new AbathurSessionService(store);
    const session = await service.createSession({ appName: 'app', userId: 'u', sessionId: 'adk' });
    const { items } = await store.sessions.listByUser('u', { limit: 10 });
    const storeId = items.find((s) => (s.metadata as { adk?: { sessionId?: string } } | null)?.adk?.sessionId === 'adk')!.id;
    const watch = store.sessions.watch(storeId)[Symbol.asyncIterator]();
    const next = watch.next();
    await sleep(100);
    await service.appendEvent({ session, event: createEvent({ author: 'agent', invocationId: 'inv', id: 'e1', timestamp: 5 }) });
    expect(await Promise.race([next.then((step) => (step.done === true ? 'ended' : 'yielded')), sleep(3_000).then(() => 'not heard')])).toBe('yielded');
    await watch.return?.();
  });
});
