import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Store } from '../src/store.js';
import { openTestStore } from './helpers/store.js';

const SURGE_MS = Number(process.env.ABATHUR_SURGE_MS ?? 3000);
const RSS_BUDGET_MIB = 256;
/** How long the calls of the surge may take to settle once it ends. */
const SETTLE_BOUND_MS = 30_000;

/** Closed loop: 32 writers for `ms`; returns writes per second (what the store sustains). */
async function sustainable(store: Store, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: 32 }, async (_, c) => {
      while (performance.now() < end) {
        await store.metrics.record('steady', c);
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}

/** The best of `n` one-second measurements: a neighbour's burst on a shared machine spoils one, not all. */
async function bestOf(n: number, store: Store): Promise<number> {
  let best = 0;
  for (let i = 0; i < n; i++) best = Math.max(best, await sustainable(store, 1000));
  return best;
}

describe('overload', () => {
  it('at 10x the sustainable rate: bounded queues, OVERLOADED at the call, bounded memory, recovery', { timeout: 120_000 }, async () => {
    const maxQueue = 2000;
    const store = await openTestStore({ maxQueue });
    const before = await bestOf(2, store);
    const rssBefore = process.memoryUsage().rss;

    // Open loop: whatever the event loop's pace, keep calls fired at 10x the rate. On a
    // loaded machine this thread may fall short of 10x; what the test needs is a surge
    // that keeps the queue full, which it checks below.
    const rate = before * 10;
    let fired = 0;
    let settled = 0;
    let accepted = 0;
    let overloaded = 0;
    const otherErrors: string[] = [];
    const callUs: number[] = [];
    // Sampled calls: was the promise already rejected when the call returned?
    const sampled: { rejectedAtReturn: boolean; code?: string }[] = [];
    let maxQueued = 0;
    let peakRss = rssBefore;
    const onAccepted = (): void => {
      accepted++;
      settled++;
    };
    const onRejected = (error: { code?: string; message?: string }): void => {
      settled++;
      if (error.code === 'OVERLOADED') overloaded++;
      else otherErrors.push(`${error.code}: ${error.message}`);
    };
    const start = performance.now();
    const end = start + SURGE_MS;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      for (; fired < due; fired++) {
        if (fired % 64 === 0) {
          const called = performance.now();
          const call = store.metrics.record('surge', 1);
          callUs.push((performance.now() - called) * 1000);
          const sample: (typeof sampled)[number] = { rejectedAtReturn: inspect(call).includes('<rejected>') };
          sampled.push(sample);
          call.then(onAccepted, (error: { code?: string }) => {
            sample.code = error.code;
            onRejected(error);
          });
        } else {
          store.metrics.record('surge', 1).then(onAccepted, onRejected);
        }
      }
      maxQueued = Math.max(maxQueued, store.stats().queues.write);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await sleep(1);
    }
    const settleBy = performance.now() + SETTLE_BOUND_MS;
    while (settled < fired && performance.now() < settleBy) await sleep(10);
    const unsettled = fired - settled;
    const offered = fired / (SURGE_MS / 1000);
    const after = await bestOf(3, store);
    const growthMiB = (peakRss - rssBefore) / 2 ** 20;
    callUs.sort((a, b) => a - b);
    const callP99Us = callUs[Math.floor(callUs.length * 0.99)] ?? 0;
    const reader = new Database(store.path, { readonly: true });
    const written = reader.prepare("SELECT count(*) FROM metrics WHERE metric_name = 'surge'").pluck().get() as number;
    reader.close();
    console.log(
      `overload: sustainable ${Math.round(before)} writes/s; offered ${Math.round(offered)}/s (${(offered / before).toFixed(1)}x) for ${SURGE_MS} ms: ` +
        `${accepted} accepted, ${written} written, ${overloaded} OVERLOADED (a call returns in ${callP99Us.toFixed(1)} us at p99), ` +
        `write queue peaked at ${maxQueued} of ${maxQueue}, RSS +${growthMiB.toFixed(0)} MiB; afterwards ${Math.round(after)} writes/s`,
    );
    expect(unsettled).toBe(0);
    expect(otherErrors).toEqual([]);
    // It was a surge: the queue filled to its bound and never past it, and the store
    // was offered at least five times what it took.
    expect(maxQueued).toBe(maxQueue);
    expect(overloaded).toBeGreaterThanOrEqual(4 * accepted);
    // Everything accepted was written, and nothing refused was.
    expect(written).toBe(accepted);
    // The refusal is decided inside the call: its promise is already rejected when the call returns.
    const refusedSamples = sampled.filter((s) => s.code === 'OVERLOADED');
    expect(refusedSamples.length).toBeGreaterThan(0);
    expect(refusedSamples.filter((s) => !s.rejectedAtReturn)).toEqual([]);
    expect(growthMiB).toBeLessThan(RSS_BUDGET_MIB);
    // Recovery: afterwards the store writes at its earlier pace. The bound is loose
    // because on a shared 2-core machine one-second rates swing twofold (measured here:
    // 3.3k to 13.5k writes/s in one run); a store left degraded is slower by far more.
    expect(after).toBeGreaterThan(before * 0.3);
  });
});
