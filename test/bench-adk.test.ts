import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { AdkBenchResult } from '../bench/adk.js';
import type { RunnerBenchResult } from '../bench/adk-runner.js';
import { benchMain } from '../bench/run-bench.js';
import { tempDbPath } from './helpers/temp.js';

// bench --adk must work: a tiny run of our session service and ADK's DatabaseSessionService
// (on a SQLite file), each trial in its own process, from the build.
describe('npm run bench -- --adk', () => {
  it('measures AbathurSessionService against ADK’s DatabaseSessionService side by side', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const json = tempDbPath('adk.json');
    const code = await benchMain(
      ['--adk', '--duration', '0.5', '--trials', '1', '--sessions', '4', '--systems', 'abathur,adk-database', '--json', json],
      io,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/^abathur\s+[\d,]+\s+[\d.]+x\s/m);
    expect(output).toMatch(/^adk-database\s+[\d,]+\s+1\.00x\s/m);
    const result = JSON.parse(readFileSync(json, 'utf8')) as AdkBenchResult;
    for (const system of ['abathur', 'adk-database']) {
      const m = result.summary[system]!.median;
      // Each did work, without errors, and read sessions of the length asked for.
      expect(m.errors, m.errorSamples.join('; ')).toBe(0);
      expect(m.appends).toBeGreaterThan(0);
      expect(m.reads).toBeGreaterThan(0);
      expect(m.eventsPerRead).toBe(16);
      expect(m.latency.getSession.count).toBe(m.reads);
    }
    expect(result.summary['adk-database']!.vsDatabase).toBe(1);
  });

  it('--adk-runner: Runner turns on sessions seeded to each length, beside InMemorySessionService', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const json = tempDbPath('runner.json');
    const code = await benchMain(
      ['--adk-runner', '--duration', '0.3', '--trials', '1', '--sessions', '3', '--events', '4,20', '--systems', 'abathur,adk-memory', '--json', json],
      io,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/^20\s+abathur\s+[\d,]+\s+[\d.]+x\s/m);
    expect(output).toMatch(/^20\s+adk-memory\s+[\d,]+\s+1\.00x\s/m);
    const result = JSON.parse(readFileSync(json, 'utf8')) as RunnerBenchResult;
    for (const events of [4, 20]) {
      for (const system of ['abathur', 'adk-memory']) {
        const m = result.summary[String(events)]![system]!;
        expect(m.errors, m.errorSamples.join('; ')).toBe(0);
        expect(m.turns).toBeGreaterThan(0);
        // Seeded to the length asked for, then two events a turn.
        expect(m.eventsAtEnd).toBe(events + Math.round((2 * m.turns) / 3));
        expect(m.processCpuUs).toBeGreaterThan(0);
      }
    }
  });

  it('measures both on PostgreSQL, on the same server, and counts rejected concurrent first creates', { timeout: 120_000 }, async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const json = tempDbPath('adk-pg.json');
    const server = new URL(inject('pgTemplateUrl'));
    server.pathname = '/postgres';
    const args = ['--adk', '--duration', '0.5', '--trials', '1', '--sessions', '4', '--systems', 'abathur-pg,adk-database-pg', '--url', server.href, '--json', json];
    expect(await benchMain(args, io), output).toBe(0);
    expect(output).toMatch(/^adk-database-pg\s+[\d,]+\s+1\.00x\s/m);
    const result = JSON.parse(readFileSync(json, 'utf8')) as AdkBenchResult;
    expect(result.postgres).toMatch(/^PostgreSQL \d+/);
    const ours = result.summary['abathur-pg']!.median;
    expect(ours.errors, ours.errorSamples.join('; ')).toBe(0);
    expect(ours.appends).toBeGreaterThan(0);
    expect(ours.eventsPerRead).toBe(16);
    expect(ours.rejectedCreates).toBe(0);
    expect(result.summary['adk-database-pg']!.median.appends).toBeGreaterThan(0);
  });

  it('refuses systems it does not know', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await benchMain(['--adk', '--systems', 'facade'], io)).toBe(2);
    expect(output).toContain('unknown system "facade"');
  });
});
