import { describe, expect, it } from 'vitest';
import { crashCycles } from './helpers/crash.js';
import { tempDbPath } from './helpers/temp.js';

const RUNS = Number(process.env.ABATHUR_CRASH_RUNS ?? 100);

describe('crash consistency (kill -9), synchronous NORMAL', () => {
  it(`loses no acknowledged write and half-applies nothing over ${RUNS} kills`, { timeout: 30 * 60_000 }, async () => {
    const summary = await crashCycles(tempDbPath(), 'normal', RUNS, 1);
    console.log(`crash NORMAL: ${summary.runs} kills, ${summary.acknowledged} acknowledged writes, ${summary.retried} in-flight appends retried, ${summary.problems.length} problems`);
    expect(summary.problems).toEqual([]);
    expect(summary.acknowledged).toBeGreaterThan(RUNS * 10);
    // Appends in flight at a kill were retried by eventId, and none is in the log twice.
    expect(summary.retried).toBeGreaterThan(0);
  });
});
