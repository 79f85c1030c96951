import { describe, expect, it } from 'vitest';
import { account, CLAIM_SYSTEMS, ExactlyOnceError, formatClaimThroughput, runClaimThroughputBench } from '../bench/claim-throughput.js';
import type { ProducerReport } from '../bench/claim-producer.js';
import { benchMain } from '../bench/run-bench.js';

// The claim-throughput benchmark must run, and its accounting must hold: a tiny run of each
// system (64 agents on SQLite, on PostgreSQL, and graphile-worker on the same embedded
// server) in which every task the producer made is claimed exactly once.
describe('claim-throughput benchmark', () => {
  it('claims every task of every system exactly once, from the build', async () => {
    const result = await runClaimThroughputBench({ durationMs: 300, rate: 200 });
    expect(result.rows.map((r) => r.system)).toEqual([...CLAIM_SYSTEMS]);
    for (const row of result.rows) {
      expect(row.produced, row.system).toBeGreaterThan(0);
      expect(row.createErrors, row.system).toBe(0);
      expect(row.produced + row.notIssued, row.system).toBe(60);
      expect(row.claims, row.system).toBe(row.produced);
      expect(row.duplicates, row.system).toBe(0);
      expect(row.missing, row.system).toBe(0);
      expect(row.unknown, row.system).toBe(0);
      expect(row.fromCreate.p99Ms, row.system).toBeGreaterThanOrEqual(row.fromCreate.p50Ms);
      expect(row.serverCpuUsPerTask === null, row.system).toBe(row.system === 'abathur sqlite');
      // Each abathur claim ran its statement at least once; graphile-worker's are not counted.
      if (row.system === 'graphile-worker 0.17.3') expect(row.claimLooksPerTask).toBeNull();
      else expect(row.claimLooksPerTask, row.system).toBeGreaterThanOrEqual(1);
    }
    expect(formatClaimThroughput(result)).toMatch(/abathur postgres \/ graphile-worker, create→claim p99: [\d.]+x/);
  }, 180_000);

  it('counts duplicates, missing tasks and unknown claims, and the run fails on them', () => {
    const report: ProducerReport = {
      tasks: [['a', 0, 1], ['b', 0, 1], ['c', 0, 1]],
      startedAt: 0,
      windowEndAt: 1,
      settledAt: 1,
      notIssued: 0,
      errors: 0,
      errorSamples: [],
      cpuUs: 30,
    };
    const row = account('abathur sqlite', report, [['a', 2], ['b', 3], ['a', 4], ['x', 5]], { callerNs: undefined, processUs: 300 });
    expect(row).toMatchObject({ produced: 3, claims: 4, duplicates: 1, missing: 1, unknown: 1, backlogAtWindowEnd: 3, backlogPeak: 3 });
    expect(row.fromCreate).toEqual({ p50Ms: 3, p99Ms: 3, maxMs: 3 });
    expect(row.fromAck).toEqual({ p50Ms: 2, p99Ms: 2, maxMs: 2 });
    expect(row.processCpuUsPerTask).toBe(100);
    expect(new ExactlyOnceError(row, []).message).toBe(
      'abathur sqlite: not exactly once: 1 duplicate claims, 1 tasks never claimed, 1 claims of unknown ids, 0 failed creates (of 3)',
    );
    expect(row.serverCpuUsPerTask).toBeNull();
    const clean = account('abathur postgres', report, [['c', 2], ['b', 2], ['a', 2]], { callerNs: 600_000, processUs: 0, serverUs: 900 });
    expect(clean).toMatchObject({ claims: 3, duplicates: 0, missing: 0, unknown: 0, backlogAtWindowEnd: 3, callerCpuUsPerTask: 200, serverCpuUsPerTask: 300 });
  });

  it('runs from the bench command and refuses an unknown system', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await benchMain(['--claim-throughput', '--duration', '0.2', '--rate', '100', '--agents', '4', '--systems', 'sqlite'], io)).toBe(0);
    expect(output).toMatch(/^abathur sqlite\s+20\s/m);
    expect(output).toContain('every task claimed exactly once');
    expect(await benchMain(['--claim-throughput', '--systems', 'bullmq'], io)).toBe(2);
    expect(output).toContain('--claim-throughput takes --systems of sqlite, postgres, graphile-worker; got "bullmq"');
  }, 60_000);
});
