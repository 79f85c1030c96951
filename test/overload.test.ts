import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Store } from '../src/api/store.js';
import { openTestStore } from './helpers/store.js';

const SURGE_MS = Number(process.env.ABATHUR_SURGE_MS ?? 3000);
const RSS_BUDGET_MIB = 256;

/** Closed loop: 32 writers for `ms`; returns writes per second (what the store sustains). */
async function sustainable(store: Store, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: 32 }, async (_, c) => {
      while (performance.now() < end) {
        await store.metrics.record('overload', c);
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}

describe('overload', () => {
  it('at 10x the sustainable rate: bounded queues, OVERLOADED at the call, bounded memory, recovery', { timeout: 120_000 }, async () => {
    const maxQueue = 2000;
    const store = await openTestStore({ maxQueue });
    const before = await sustainable(store, 2000);
    const rssBefore = process.memoryUsage().rss;

    // Open loop: whatever the event loop's pace, keep calls fired at 10x the rate.
    const rate = before * 10;
    let fired = 0;
    let settled = 0;
    let accepted = 0;
    let overloaded = 0;
    let otherErrors = 0;
    const callUs: number[] = [];
    let maxQueued = 0;
    let peakRss = rssBefore;
    const onAccepted = (): void => {
      accepted++;
      settled++;
    };
    const onRejected = (error: { code?: string }): void => {
      settled++;
      if (error.code === 'OVERLOADED') overloaded++;
      else otherErrors++;
    };
    const start = performance.now();
    const end = start + SURGE_MS;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      for (; fired < due; fired++) {
        // Time one call in 64: how long a call takes to return (accepted or refused).
        if (fired % 64 === 0) {
          const called = performance.now();
          const call = store.metrics.record('overload', 1);
          callUs.push((performance.now() - called) * 1000);
          call.then(onAccepted, onRejected);
        } else {
          store.metrics.record('overload', 1).then(onAccepted, onRejected);
        }
      }
      maxQueued = Math.max(maxQueued, store.stats().queues.write);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await sleep(1);
    }
    while (settled < fired) await sleep(10);
    const offered = fired / (SURGE_MS / 1000);
    const after = await sustainable(store, 2000);
    const growthMiB = (peakRss - rssBefore) / 2 ** 20;
    callUs.sort((a, b) => a - b);
    const callP99Us = callUs[Math.floor(callUs.length * 0.99)] ?? 0;
    console.log(
      `overload: sustainable ${Math.round(before)} writes/s; offered ${Math.round(offered)}/s for ${SURGE_MS} ms: ` +
        `${accepted} accepted, ${overloaded} OVERLOADED (a call returns in ${callP99Us.toFixed(1)} us at p99), ` +
        `write queue peaked at ${maxQueued} of ${maxQueue}, RSS +${growthMiB.toFixed(0)} MiB; afterwards ${Math.round(after)} writes/s`,
    );
    expect(offered).toBeGreaterThan(before * 9);
    expect(otherErrors).toBe(0);
    expect(overloaded).toBeGreaterThan(0);
    // Everything accepted was written.
    expect((await store.metrics.query({ name: 'overload', limit: 1 })).items).toHaveLength(1);
    expect(maxQueued).toBeLessThanOrEqual(maxQueue);
    // The rejection is decided inside the call: it returns at once, promise already rejected.
    expect(callP99Us).toBeLessThan(1000);
    expect(growthMiB).toBeLessThan(RSS_BUDGET_MIB);
    expect(after).toBeGreaterThan(before * 0.6);
  });
});
