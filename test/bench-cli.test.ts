import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { tempDir } from './helpers/temp.js';

// The benchmark is not part of the library's coverage, but its command must work: a tiny
// run of two systems, in child processes, from the build.
describe('abathur-store bench', () => {
  it('runs the systems side by side and prints the tables', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const code = await main(['bench', '--duration', '0.5', '--trials', '1', '--sessions', '4', '--systems', 'facade,direct', '--seed-sessions', '100', '--mix', 'mixed'], io);
    expect(code).toBe(0);
    expect(output).toMatch(/^facade\s+[\d,]+\s+[\d.]+x/m);
    expect(output).toMatch(/^direct\s+[\d,]+\s+1\.00x/m);
    expect(output).toContain('getSession');
  });

  it('runs the growth sweep at a small scale: every curve, the beside-a-long-session ratio, the charts', { timeout: 180_000 }, async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const out = tempDir();
    const args = ['bench', '--sweep', 'growth', '--growth-scale', '0.002', '--duration', '0.3', '--trials', '1', '--seed-sessions', '100', '--out', out];
    expect(await main(args, io)).toBe(0);
    for (const curve of ['append (facade)', 'append (direct)', 'lastEvents(20) (facade)', 'events() page of 50 (direct)', 'memory.update (facade)', 'memory.history (first page) (direct)', 'checkpoints.latest (facade)', 'audit.list by namespace prefix (facade)']) {
      expect(output).toContain(curve);
    }
    expect(output).toMatch(/append at 200 within 1\.3x of 2 \(p50\)\s+facade [\d.]+x, direct [\d.]+x/);
    expect(output).toMatch(/63 sessions' writes beside a 200-event session >= 0\.9x\s+[\d.]+x/);
    for (const chart of ['growth-append', 'growth-session-reads', 'growth-memory', 'growth-checkpoints', 'growth-audit', 'growth-beside-long']) {
      expect(existsSync(join(out, `${chart}.svg`)), chart).toBe(true);
    }
  });

  it('explains its options and refuses bad ones', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await main(['bench', '--help'], io)).toBe(0);
    expect(output).toContain('--sessions N');
    expect(await main(['bench', '--systems', 'mystery'], io)).toBe(2);
    expect(await main(['bench', '--think', 'sometimes'], io)).toBe(2);
    expect(await main(['bench', '--sweep', 'growth', '--growth-scale', '0'], io)).toBe(2);
  });
});
