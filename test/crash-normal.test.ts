import { describe, expect, it } from 'vitest';
import { crashCycles } from './helpers/crash.js';
import { tempDbPath } from './helpers/temp.js';

const RUNS = Number(process.env.ABATHUR_CRASH_RUNS ?? 100);
// The kills are shared between two databases cycled at once: most of a run is the child
// store starting, on one core, so two cycles take little more than the time of one.
const DATABASES = 2;

describe('crash consistency (kill -9), synchronous NORMAL', () => {
  it(`loses no acknowledged write and half-applies nothing over ${RUNS} kills`, { timeout: 10 * 60_000 }, async () => {
    const shares = Array.from({ length: DATABASES }, (_, i) => Math.floor((RUNS + DATABASES - 1 - i) / DATABASES));
    const summaries = await Promise.all(shares.map((runs, i) => crashCycles(tempDbPath(`store-${i}.db`), 'normal', runs, i + 1)));
    const kills = summaries.reduce((n, s) => n + s.runs, 0);
    const acknowledged = summaries.reduce((n, s) => n + s.acknowledged, 0);
    const retried = summaries.reduce((n, s) => n + s.retried, 0);
    const problems = summaries.flatMap((s, i) => s.problems.map((p) => `database ${i}: ${p}`));
    console.log(`crash NORMAL: ${kills} kills on ${DATABASES} databases, ${acknowledged} acknowledged writes, ${retried} in-flight appends retried, ${problems.length} problems`);
    expect(kills).toBe(RUNS);
    expect(problems).toEqual([]);
    expect(acknowledged).toBeGreaterThan(RUNS * 10);
    // Appends in flight at a kill were retried by eventId, and none is in the log twice.
    expect(retried).toBeGreaterThan(0);
  });
});
