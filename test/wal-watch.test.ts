import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoreChange } from '../src/api/change-feed.js';
import { StoreError } from '../src/api/errors.js';
import { LOOKS_AFTER_MS, walWatch } from '../src/sqlite/wal-watch.js';

const SETTLE_MS = LOOKS_AFTER_MS[0]!;
import { openStore, type Store } from '../src/store.js';
import { openTestStore } from './helpers/store.js';
import { cleanup, tempDir } from './helpers/temp.js';

const others: Store[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((s) => s.close().catch(() => {})));
});

const count = (store: Store, operation: string): number => store.stats().latency[operation]?.count ?? 0;

// The WAL watch sees every commit to the file, this store's own included; only other
// connections' commits may wake the parked claims and watchers through it. This store's
// own writes wake whom they concern directly, and nobody else.
it('wakes parked claims and watchers for another process’s commits, never for this store’s own', async () => {
  const store = await openTestStore();
  const watched = await store.sessions.create({ appName: 'a', userId: 'u' });
  const other = await store.sessions.create({ appName: 'a', userId: 'v' });
  const controller = new AbortController();
  const coder = store.tasks.claimNext({ agentType: 'coder', waitMs: 60_000, signal: controller.signal });
  const reviewer = store.tasks.claimNext({ agentType: 'reviewer', waitMs: 60_000, signal: controller.signal });
  const watch = store.sessions.watch(watched.id, { signal: controller.signal })[Symbol.asyncIterator]();
  const next = watch.next();
  // Settled before the store closes, should an assertion fail first.
  for (const pending of [coder, reviewer, next]) pending.catch(() => {});
  // Both claims have looked once and parked; the watcher has read its (empty) log.
  await vi.waitFor(() => {
    expect(count(store, 'tasks.claimNext')).toBe(2);
    expect(count(store, 'sessions.events')).toBe(1);
  });
  await sleep(100);
  const claims = count(store, 'tasks.claimNext');
  const heads = count(store, 'sessions.heads');
  const logReads = count(store, 'sessions.events');

  // This store's own commits that concern none of them: a task no parked claim takes, an
  // event of a session nobody watches.
  for (let i = 0; i < 5; i++) {
    await store.tasks.create({ prompt: 'p', inputData: {}, agentType: 'tester' });
    await store.sessions.appendEvent(other.id, { author: 'user' });
  }
  await sleep(200);
  expect(count(store, 'tasks.claimNext') - claims).toBe(0);
  expect(count(store, 'sessions.heads') - heads).toBe(0);
  expect(count(store, 'sessions.events') - logReads).toBe(0);

  // Another process's commits still wake them: a task each claim takes, an event the watcher yields.
  const second = await openStore({ path: store.path, readers: 1 });
  others.push(second);
  await second.tasks.create({ id: 'c', prompt: 'p', inputData: {}, agentType: 'coder' });
  await second.tasks.create({ id: 'r', prompt: 'p', inputData: {}, agentType: 'reviewer' });
  await second.sessions.appendEvent(watched.id, { author: 'user', content: { text: 'from afar' } });
  expect((await coder)?.id).toBe('c');
  expect((await reviewer)?.id).toBe('r');
  expect((await next).value).toMatchObject({ event: { author: 'user', content: { text: 'from afar' } } });
  controller.abort();
  await watch.return?.();
});

describe('walWatch', () => {
  /** A WAL file to write to, a watch on it, and what it emitted. */
  async function watching(answers: () => Promise<boolean>) {
    const path = join(tempDir(), 'x.db');
    writeFileSync(`${path}-wal`, '');
    const asked: number[] = [];
    let asks = 0;
    const emitted: StoreChange[] = [];
    const watcher = walWatch(path, () => {
      asked.push(++asks);
      return answers();
    })((change) => emitted.push(change));
    cleanup(() => watcher.stop());
    await watcher.ready;
    return { path, asked, emitted, watcher };
  }

  it('asks before it wakes anyone: a no wakes nobody, a yes (or a failure to tell) wakes', async () => {
    let answer: Promise<boolean> = Promise.resolve(false);
    const { path, asked, emitted } = await watching(() => answer);
    // The first ask only takes the measure, before ready.
    expect(asked).toHaveLength(1);
    appendFileSync(`${path}-wal`, 'own commit');
    await vi.waitFor(() => expect(asked.length).toBeGreaterThanOrEqual(3)); // at once, and once more after SETTLE_MS
    await sleep(SETTLE_MS * 5);
    expect(emitted).toEqual([]);
    answer = Promise.resolve(true);
    appendFileSync(`${path}-wal`, 'foreign commit');
    await vi.waitFor(() => expect(emitted.length).toBeGreaterThanOrEqual(1));
    expect(emitted[0]).toEqual({ kind: 'external' });
    const before = emitted.length;
    answer = Promise.reject(new StoreError('CLOSED', 'closing'));
    answer.catch(() => {});
    appendFileSync(`${path}-wal`, 'unknown');
    await vi.waitFor(() => expect(emitted.length).toBeGreaterThan(before));
  });

  it('looks again later: a commit published well after its write to the WAL still wakes, with no further change', async () => {
    // Another process syncing its WAL before it publishes the commit (synchronous = FULL
    // on a slow disk): the asks at the change and SETTLE_MS later say no.
    // The writer's data_version moves once, when the commit is published: one ask says yes.
    let publishedAt = Number.POSITIVE_INFINITY;
    let told = false;
    const { path, emitted } = await watching(() => {
      const yes = !told && performance.now() >= publishedAt;
      told ||= yes;
      return Promise.resolve(yes);
    });
    publishedAt = performance.now() + LOOKS_AFTER_MS[1]! / 2;
    appendFileSync(`${path}-wal`, 'slow commit');
    await vi.waitFor(() => expect(emitted).toEqual([{ kind: 'external' }]), { timeout: 2000 });
    await sleep(LOOKS_AFTER_MS.at(-1)! + 100);
    expect(emitted).toEqual([{ kind: 'external' }]);
  });

  it('has one ask out at a time, and asks once more after changes seen meanwhile; stopped, it wakes nobody', async () => {
    let release!: (foreign: boolean) => void;
    let gate = Promise.resolve(false);
    let yes = 0; // how many asks still answer yes before the gate does
    const { path, asked, emitted, watcher } = await watching(() => {
      if (yes === 0) return gate;
      yes--;
      return Promise.resolve(true);
    });
    gate = new Promise<boolean>((resolve) => (release = resolve));
    appendFileSync(`${path}-wal`, 'a');
    await vi.waitFor(() => expect(asked).toHaveLength(2));
    // Changes while that ask is out: none asks now.
    for (let i = 0; i < 5; i++) appendFileSync(`${path}-wal`, 'b');
    await sleep(SETTLE_MS * 5);
    expect(asked).toHaveLength(2);
    const held = gate;
    gate = Promise.resolve(false);
    yes = 1;
    release(false);
    await held;
    // One more ask for all of them, which says yes; then only the later looks, which say no.
    await vi.waitFor(() => expect(emitted).toHaveLength(1));
    await sleep(LOOKS_AFTER_MS.at(-1)! + 100);
    expect(asked.length).toBeLessThanOrEqual(3 + LOOKS_AFTER_MS.length - 1);
    expect(emitted).toHaveLength(1);
    gate = new Promise<boolean>((resolve) => (release = resolve));
    const before = asked.length;
    appendFileSync(`${path}-wal`, 'c');
    await vi.waitFor(() => expect(asked.length).toBeGreaterThan(before));
    watcher.stop();
    release(true);
    await sleep(LOOKS_AFTER_MS.at(-1)! + 100);
    expect(emitted).toHaveLength(1);
  });
});
