import { describe, expect, inject, it } from 'vitest';
import { benchMain } from '../bench/run-bench.js';

// The benchmark's PostgreSQL side must work: a tiny run of the store on SQLite against the
// store on PostgreSQL, on the test run's server (the benchmark makes and drops its own
// databases there), in child processes, from the build.
describe('npm run bench -- --engine postgres', () => {
  it('runs the store on both engines side by side, as ratios to the SQLite facade', { timeout: 180_000 }, async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const server = new URL(inject('pgTemplateUrl'));
    server.pathname = '/postgres';
    const args = ['--engine', 'postgres', '--url', server.href, '--pool', '4', '--duration', '0.5', '--trials', '1', '--sessions', '4', '--seed-sessions', '100', '--mix', 'mixed'];
    expect(await benchMain(args, io)).toBe(0);
    expect(output).toMatch(/PostgreSQL \d+\.\d+ \(synchronous_commit=\w+, fsync=\w+\), pool 4/);
    expect(output).toMatch(/^facade\s+[\d,]+\s+1\.00x/m);
    // ops/s, the ratio, the CPU columns, event-loop p50 and p99, no errors.
    expect(output).toMatch(/^postgres\s+[\d,]+\s+[\d.]+x\s.*\s[\d.]+ ms\s+[\d.]+ ms\s+0\s/m);
    expect(output).toMatch(/^appendEvent\s+\S+ \/ \S+\s+\S+ \/ \S+$/m);
  });

  it('measures the mixed load from 1 and 2 processes against one server, summed, as a ratio to one process', { timeout: 180_000 }, async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const server = new URL(inject('pgTemplateUrl'));
    server.pathname = '/postgres';
    const args = ['--engine', 'postgres', '--processes', '1,2', '--url', server.href, '--pool', '2', '--duration', '0.5', '--trials', '1', '--sessions', '4', '--seed-sessions', '100'];
    expect(await benchMain(args, io), output).toBe(0);
    expect(output).toMatch(/^1\s+[\d,]+\s+1\.00x\s+[\d,]+\s/m);
    // Two processes, each with its own throughput, no errors.
    expect(output).toMatch(/^2\s+[\d,]+\s+[\d.]+x\s+[\d,]+ \+ [\d,]+\s.*\s0\s/m);
    expect(await benchMain(['--processes', '1,2'], io)).toBe(2);
  });

  it('refuses an unknown engine and a bad commit mode', async () => {
    const io = { out: () => {}, err: () => {} };
    expect(await benchMain(['--engine', 'oracle'], io)).toBe(2);
    expect(await benchMain(['--engine', 'postgres', '--pg-commit', 'maybe'], io)).toBe(2);
  });
});
