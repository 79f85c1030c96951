import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';

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

  it('explains its options and refuses bad ones', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await main(['bench', '--help'], io)).toBe(0);
    expect(output).toContain('--sessions N');
    expect(await main(['bench', '--systems', 'mystery'], io)).toBe(2);
    expect(await main(['bench', '--think', 'sometimes'], io)).toBe(2);
  });
});
