import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { benchMain } from '../bench/run-bench.js';
import { tempDir } from './helpers/temp.js';

/** Every trial of every system in a compare run's JSON did its operations without an error (a baseline that fails an operation measures nothing). */
function expectNoErrors(file: string): void {
  const result = JSON.parse(readFileSync(file, 'utf8')) as { trials: Record<string, { errors: number; errorSamples?: string[] }[]> };
  for (const [system, trials] of Object.entries(result.trials)) {
    for (const trial of trials) expect(trial.errors, `${system}: ${trial.errorSamples?.join('; ')}`).toBe(0);
  }
}

// The benchmark is not part of the library's coverage, but its command must work: a tiny
// run of the systems, in child processes, from the build, in which no operation fails.
describe('the benchmark command (npm run bench)', () => {
  it('runs the systems side by side and prints the tables', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const json = join(tempDir(), 'compare.json');
    const code = await benchMain(
      ['--duration', '0.5', '--trials', '1', '--sessions', '4', '--systems', 'facade,direct,naive-pool', '--seed-sessions', '100', '--mix', 'mixed', '--json', json],
      io,
    );
    expect(code).toBe(0);
    expect(output).toMatch(/^facade\s+[\d,]+\s+[\d.]+x/m);
    expect(output).toMatch(/^direct\s+[\d,]+\s+1\.00x/m);
    expect(output).toContain('getSession');
    expectNoErrors(json);
  });

  it('runs the growth sweep at a small scale: every curve, the beside-a-long-session ratio, the charts', { timeout: 180_000 }, async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const out = tempDir();
    const args = ['--sweep', 'growth', '--growth-scale', '0.002', '--duration', '0.3', '--trials', '1', '--seed-sessions', '100', '--out', out];
    expect(await benchMain(args, io)).toBe(0);
    for (const curve of ['append (facade)', 'append (direct)', 'lastEvents(20) (facade)', 'events() page of 50 (direct)', 'memory.update (facade)', 'memory.history (first page) (direct)', 'checkpoints.latest (facade)', 'audit.list by namespace prefix (facade)']) {
      expect(output).toContain(curve);
    }
    expect(output).toMatch(/append at 200 within 1\.3x of 2 \(p50\)\s+facade [\d.]+x, direct [\d.]+x/);
    expect(output).toMatch(/63 sessions' writes beside a 200-event session >= 0\.9x\s+[\d.]+x/);
    for (const chart of ['growth-append', 'growth-session-reads', 'growth-memory', 'growth-checkpoints', 'growth-audit', 'growth-beside-long']) {
      expect(existsSync(join(out, `${chart}.svg`)), chart).toBe(true);
    }
  });

  it('measures the writer against writer-limit, and another build of the facade as `before`', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const root = fileURLToPath(new URL('..', import.meta.url));
    const json = join(tempDir(), 'compare.json');
    const code = await benchMain(
      ['--duration', '0.3', '--trials', '1', '--sessions', '4', '--systems', 'facade,before,writer-limit', '--before', root, '--seed-sessions', '100', '--mix', 'appendEvent=1,claimComplete=1,recordMetric=1', '--json', json],
      io,
    );
    expect(code).toBe(0);
    expectNoErrors(json);
    // Without direct the first ratio is to the facade; the second to writer-limit.
    expect(output).toMatch(/^facade\s+[\d,]+\s+1\.00x\s+[\d.]+x/m);
    expect(output).toMatch(/^before\s+[\d,]+\s+[\d.]+x\s+[\d.]+x/m);
    expect(output).toMatch(/^writer-limit\s+[\d,]+\s+[\d.]+x\s+1\.00x/m);
    expect(await benchMain(['--systems', 'before'], io)).toBe(2);
    expect(output).toContain('--systems before needs --before DIR');
    expect(await benchMain(['--systems', 'writer-limit', '--mix', 'read'], io)).toBe(2);
    expect(output).toContain('writer-limit runs write operations only');
  });

  it('explains its options and refuses bad ones', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await benchMain(['--help'], io)).toBe(0);
    expect(output).toContain('--sessions N');
    expect(await benchMain(['--systems', 'mystery'], io)).toBe(2);
    expect(output).toContain('unknown system "mystery"');
    expect(await benchMain(['--think', 'sometimes'], io)).toBe(2);
    expect(await benchMain(['--sweep', 'growth', '--growth-scale', '0'], io)).toBe(2);
  });

  it('is not a command of the library: abathur-store bench says where it is, and exits 2', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await main(['bench', '--sessions', '4'], io)).toBe(2);
    expect(output).toContain('npm run bench');
  });
});
