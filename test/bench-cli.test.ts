import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { benchMain } from '../bench/run-bench.js';

// The benchmark is not part of the library's coverage, but its command must work: a tiny
// run of two systems, in child processes, from the build.
describe('the benchmark command', () => {
  const capture = () => {
    const io = { text: '', out: (t: string) => (io.text += `${t}\n`), err: (t: string) => (io.text += `${t}\n`) };
    return io;
  };

  it('runs the systems side by side and prints the tables', async () => {
    const io = capture();
    const code = await benchMain(['--duration', '0.5', '--trials', '1', '--sessions', '4', '--systems', 'facade,direct', '--seed-sessions', '100', '--mix', 'mixed'], io);
    expect(code).toBe(0);
    expect(io.text).toMatch(/^facade\s+[\d,]+\s+[\d.]+x/m);
    expect(io.text).toMatch(/^direct\s+[\d,]+\s+1\.00x/m);
    expect(io.text).toContain('getSession');
  });

  it('measures the writer against writer-limit, and another build of the facade as `before`', async () => {
    const io = capture();
    const root = fileURLToPath(new URL('..', import.meta.url));
    const code = await benchMain(
      ['--duration', '0.3', '--trials', '1', '--sessions', '4', '--systems', 'facade,before,writer-limit', '--before', root, '--seed-sessions', '100', '--mix', 'write'],
      io,
    );
    expect(code).toBe(0);
    expect(io.text).toMatch(/^facade\s+[\d,]+\s+n\/a\s+[\d.]+x/m);
    expect(io.text).toMatch(/^before\s+[\d,]+\s+n\/a\s+[\d.]+x/m);
    expect(io.text).toMatch(/^writer-limit\s+[\d,]+\s+n\/a\s+1\.00x/m);
    expect(await benchMain(['--systems', 'before'], io)).toBe(2);
    expect(io.text).toContain('--systems before needs --before DIR');
    expect(await benchMain(['--systems', 'writer-limit', '--mix', 'read'], io)).toBe(2);
    expect(io.text).toContain('writer-limit runs write operations only');
  });

  it('explains its options and refuses bad ones', async () => {
    const io = capture();
    expect(await benchMain(['--help'], io)).toBe(0);
    expect(io.text).toContain('--sessions N');
    expect(await benchMain(['--systems', 'mystery'], io)).toBe(2);
    expect(io.text).toContain('unknown system "mystery"');
    expect(await benchMain(['--think', 'sometimes'], io)).toBe(2);
  });

  it('is not a command of the installed package: abathur-store bench says where it is', async () => {
    const io = capture();
    expect(await main(['bench', '--help'], io)).toBe(2);
    expect(io.text).toContain('npm run bench');
  });
});
