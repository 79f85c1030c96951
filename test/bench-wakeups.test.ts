import { describe, expect, it } from 'vitest';
import { formatWakeups, runWakeupBench } from '../bench/wakeups.js';

// The wake-up benchmark must run: a tiny run of every system it compares (SQLite in this
// process and from another, PostgreSQL both ways, graphile-worker from another process on
// the same embedded server), measured from the create called and from its commit
// acknowledged, and the idle cost of parked watchers and claims.
describe('wake-up benchmark', () => {
  it('measures each system’s commit-to-wake-up latency and the idle cost, from the build', async () => {
    const result = await runWakeupBench({ count: 3, gapMs: 40, idleSeconds: 0.3, watchers: 20 });
    expect(result.rows.map((r) => r.system)).toEqual([
      'abathur sqlite, same process',
      'abathur sqlite, another process',
      'abathur postgres, same process',
      'abathur postgres, another process',
      'graphile-worker 0.17.3, another process',
    ]);
    for (const row of result.rows) {
      expect(row.samples, row.system).toBe(3);
      expect(row.p50Ms, row.system).toBeGreaterThan(0);
      expect(row.p99Ms, row.system).toBeGreaterThanOrEqual(row.p50Ms);
      // From the create's commit acknowledged: every sample has its acknowledgement.
      expect(Number.isFinite(row.ackP50Ms), row.system).toBe(true);
      expect(row.ackP99Ms, row.system).toBeGreaterThanOrEqual(row.ackP50Ms);
      expect(row.ackMaxMs, row.system).toBeGreaterThanOrEqual(row.ackP99Ms);
    }
    expect(result.idle).toMatchObject({ watchers: 20, claims: 64 });
    expect(result.idle.cpuFractionOfCore).toBeGreaterThanOrEqual(0);
    expect(formatWakeups(result)).toMatch(/abathur postgres \/ graphile-worker, p99: [\d.]+x from create called, [\d.]+x from create acknowledged/);
  }, 180_000);
});
