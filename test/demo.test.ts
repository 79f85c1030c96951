import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { runDemo } from '../src/cli/demo.js';
import { tempDir } from './helpers/temp.js';

describe('demo', () => {
  it('runs an orchestrator’s sessions against the store with no errors, and reports', async () => {
    let output = '';
    const result = await runDemo({
      path: join(tempDir(), 'nested', 'demo.db'),
      sessions: 8,
      durationMs: 1500,
      thinkMs: 5,
      out: (text) => (output += `${text}\n`),
      interactive: false,
    });
    expect(result.errors).toBe(0);
    expect(result.checkOk).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.turns).toBeGreaterThan(8);
    for (const op of ['sessions.get', 'memory.context', 'sessions.appendEvent', 'metrics.record']) {
      expect(result.latency[op]?.count).toBeGreaterThan(0);
    }
    expect(output).toContain('8 agent sessions for 1.5 s');
    expect(output).toMatch(/sessions\.get\s+\d+\s+\d+/);
    expect(output).toContain('caller event-loop delay');
    expect(output).toContain('errors: 0');
    // One event per turn, counted by the store, shown per session.
    expect(result.eventCounts).toHaveLength(8);
    for (const { turns, eventCount } of result.eventCounts) expect(eventCount).toBe(turns);
    expect(output).toMatch(/eventCount per session \(\d+ events in 8 sessions/);
    const first = result.eventCounts[0]!;
    expect(output).toContain(`${first.sessionId.slice(0, 8)} ${String(first.eventCount).padStart(4)}`);
    expect(output).toContain('33 of 33 satisfied');
    expect(output).toMatch(/result: ok$/m);
  });

  it('is the CLI’s demo command, which exits 0 when all went well', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t), interactive: false };
    const path = join(tempDir(), 'demo.db');
    expect(await main(['demo', '--path', path, '--sessions', '2', '--duration', '0.5', '--think', '1'], io)).toBe(0);
    expect(output).toContain('2 sessions');
    expect(await main(['demo', '--sessions', 'many'], io)).toBe(2);
  });
});
