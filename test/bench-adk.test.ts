import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';

// bench --adk must work: a tiny run of our session service and ADK's DatabaseSessionService
// (on a SQLite file), each trial in its own process, from the build.
describe('abathur-store bench --adk', () => {
  it('measures AbathurSessionService against ADK’s DatabaseSessionService side by side', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const code = await main(['bench', '--adk', '--duration', '0.5', '--trials', '1', '--sessions', '4', '--systems', 'abathur,adk-database'], io);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^abathur\s+[\d,]+\s+[\d.]+x\s/m);
    expect(output).toMatch(/^adk-database\s+[\d,]+\s+1\.00x\s/m);
    // Both stored what they were sent: events per session, no errors.
    expect(output).toMatch(/^abathur\s.*\s[1-9]\d*\s+0$/m);
    expect(output).toMatch(/^adk-database\s.*\s[1-9]\d*\s+0$/m);
  });

  it('refuses systems it does not know', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await main(['bench', '--adk', '--systems', 'facade'], io)).toBe(2);
    expect(output).toContain('unknown system "facade"');
  });
});
