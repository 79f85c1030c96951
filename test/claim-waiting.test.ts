import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it, vi } from 'vitest';
import { openStore } from '../src/store.js';
import type { Store } from '../src/store.js';
import type { Task } from '../src/api/types.js';
import { describeEachEngine, type TestEngine } from './helpers/engines.js';
import { urlOf } from './helpers/postgres.js';
import { openTestStore } from './helpers/store.js';

const others: Store[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((s) => s.close().catch(() => {})));
});

/** A second store on the same database, as another process would open it (its own engine, its own writer or pool). */
async function second(engine: TestEngine, store: Store): Promise<Store> {
  const other = engine.name === 'sqlite' ? await openStore({ path: store.path, readers: 1 }) : await openStore({ url: urlOf(store) });
  others.push(other);
  return other;
}

/** Resolves once `promise` has settled, or says it is still pending after `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ settled: boolean }> {
  return Promise.race([promise.then(() => ({ settled: true }), () => ({ settled: true })), sleep(ms).then(() => ({ settled: false }))]);
}

const claims = (store: Store): number => store.stats().latency['tasks.claimNext']?.count ?? 0;

describeEachEngine('waiting claims', (engine) => {
  it('resolves undefined once waitMs has passed with nothing claimable, having looked only at the start', async () => {
    const store = await engine.open();
    const before = claims(store);
    const start = performance.now();
    expect(await store.tasks.claimNext({ waitMs: 300 })).toBeUndefined();
    expect(performance.now() - start).toBeGreaterThanOrEqual(299);
    // No polling: one look at the start, one at the end.
    expect(claims(store) - before).toBeLessThanOrEqual(2);
  });

  it('is woken by a task created in this store, and takes it', async () => {
    const store = await engine.open();
    const waiting = store.tasks.claimNext({ waitMs: 60_000 });
    // Its first look done (found nothing), it parks.
    await vi.waitFor(() => expect(claims(store)).toBe(1));
    expect(await settledWithin(waiting, 50)).toEqual({ settled: false });
    const looks = claims(store);
    await sleep(200);
    // Parked: nothing ran meanwhile.
    expect(claims(store)).toBe(looks);
    await store.tasks.create({ id: 'new', prompt: 'p', inputData: {} });
    expect(await waiting).toMatchObject({ id: 'new', status: 'running' });
  });

  it('gives each task to exactly one of many waiters; the rest keep waiting for the next', async () => {
    const store = await engine.open();
    const waiters = Array.from({ length: 8 }, () => store.tasks.claimNext({ waitMs: 60_000 }));
    await sleep(50);
    for (let i = 0; i < 5; i++) await store.tasks.create({ id: `a${i}`, prompt: 'p', inputData: {} });
    const states = await Promise.all(waiters.map((w) => settledWithin(w, 1_000)));
    expect(states.filter((s) => s.settled)).toHaveLength(5);
    for (let i = 0; i < 3; i++) await store.tasks.create({ id: `b${i}`, prompt: 'p', inputData: {} });
    const got = (await Promise.all(waiters)) as Task[];
    expect(got.map((t) => t.id).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
  });

  it('waits for its agent type only, and for dependencies to complete', async () => {
    const store = await engine.open();
    const reviewer = store.tasks.claimNext({ agentType: 'reviewer', waitMs: 60_000 });
    const any = store.tasks.claimNext({ waitMs: 60_000 });
    await sleep(50);
    await store.tasks.create({ id: 'code', prompt: 'p', inputData: {}, agentType: 'coder' });
    expect((await any)?.id).toBe('code');
    expect(await settledWithin(reviewer, 200)).toEqual({ settled: false });
    await store.tasks.create({ id: 'review', prompt: 'p', inputData: {}, agentType: 'reviewer', dependencies: ['code'] });
    expect(await settledWithin(reviewer, 200)).toEqual({ settled: false });
    await store.tasks.complete('code', 'ok');
    expect((await reviewer)?.id).toBe('review');
  });

  it('is woken by another store on the same database (another process’s commits)', async () => {
    const store = await engine.open();
    const other = await second(engine, store);
    const waiting = store.tasks.claimNext({ waitMs: 60_000 });
    const watching = other.tasks.claimNext({ waitMs: 60_000, agentType: 'back' });
    await sleep(100);
    await other.tasks.create({ id: 'from-other', prompt: 'p', inputData: {} });
    expect((await waiting)?.id).toBe('from-other');
    await store.tasks.create({ id: 'back', prompt: 'p', inputData: {}, agentType: 'back' });
    expect((await watching)?.id).toBe('back');
  });

  it('a claim woken by a new task but aborted before it looks hands the wake on to one that can take the task', async () => {
    const store = await engine.open();
    const controller = new AbortController();
    // The first parked claim takes any type: a new task's wake reaches it first.
    const anyType = store.tasks.claimNext({ waitMs: 60_000, signal: controller.signal });
    const anyOutcome = anyType.then(() => 'claimed', (error: { code?: string }) => error.code);
    await vi.waitFor(() => expect(claims(store)).toBe(1));
    const coder = store.tasks.claimNext({ agentType: 'coder', waitMs: 60_000 });
    await vi.waitFor(() => expect(claims(store)).toBe(2));
    await sleep(20);
    // Aborted in the same turn as the create that woke it: it rejects without looking.
    const created = store.tasks.create({ id: 'c', prompt: 'p', inputData: {}, agentType: 'coder' });
    controller.abort();
    await created;
    expect(await anyOutcome).toBe('ABORTED');
    // Woken, not left parked until its wait ends.
    expect(await settledWithin(coder, 2_000)).toEqual({ settled: true });
    expect((await coder)?.id).toBe('c');
  });

  it('an aborted signal rejects ABORTED and claims nothing; close() rejects CLOSED', async () => {
    const store = await engine.open();
    const controller = new AbortController();
    const waiting = store.tasks.claimNext({ waitMs: 60_000, signal: controller.signal });
    await sleep(50);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {} });
    await sleep(50);
    expect((await store.tasks.get('t'))?.status).toBe('pending');
    await expect(store.tasks.claimNext({ waitMs: 1_000, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await store.tasks.get('t'))?.status).toBe('pending');

    await store.tasks.claimNext();
    const parked = store.tasks.claimNext({ waitMs: 60_000 });
    await sleep(50);
    const closing = store.close();
    await expect(parked).rejects.toMatchObject({ code: 'CLOSED' });
    await closing;
    await expect(store.tasks.claimNext({ waitMs: 1_000 })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

// SQLite's one writer runs writes in the order they were queued, so a parked claim is woken
// when a task's create is queued, not when it has committed: its look queues right behind
// the create and sees the task. The writer's group commit then takes both in one batch
// (the create waits a turn after the writer's last answer, and the claim joins it).
it('on SQLite, a claim woken by a new task looks right behind its create: both commit in one batch', async () => {
  const store = await openTestStore();
  const waiting = store.tasks.claimNext({ waitMs: 60_000 });
  await vi.waitFor(() => expect(claims(store)).toBe(1));
  await sleep(20);
  const before = store.stats().batches.write;
  const created = store.tasks.create({ id: 'now', prompt: 'p', inputData: {} });
  expect(await waiting).toMatchObject({ id: 'now', status: 'running' });
  expect(await created).toMatchObject({ id: 'now', status: 'pending' });
  const after = store.stats().batches.write;
  expect({ batches: after.batches - before.batches, calls: after.calls - before.calls }).toEqual({ batches: 1, calls: 2 });
  // One look before the task, one after: none wasted.
  expect(claims(store)).toBe(2);
});
