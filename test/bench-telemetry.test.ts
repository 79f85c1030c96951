import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TelemetryBenchResult } from '../bench/telemetry.js';
import { benchMain } from '../bench/run-bench.js';
import { tempDbPath } from './helpers/temp.js';

// bench --telemetry must work: a tiny run of the telemetry systems, each trial in its own
// process, from the build.
describe('npm run bench -- --telemetry', () => {
  it('measures calls with telemetry off, unused and under an SDK side by side', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const json = tempDbPath('telemetry.json');
    const code = await benchMain(['--telemetry', '--duration', '0.3', '--trials', '1', '--sessions', '4', '--readers', '1', '--json', json], io);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^off\s+reads\s+[\d,]+\s+1\.00x\s/m);
    expect(output).toMatch(/^sdk\s+appends\s+[\d,]+\s+[\d.]+x\s/m);
    const result = JSON.parse(readFileSync(json, 'utf8')) as TelemetryBenchResult;
    expect(Object.keys(result.summary)).toEqual(['off', 'unused', 'sdk']);
    for (const system of ['off', 'unused', 'sdk']) {
      for (const phase of ['reads', 'appends'] as const) expect(result.trials[system]![0]![phase].calls).toBeGreaterThan(0);
    }
    // Only the sdk system traced: a span per call, each exported.
    const sdk = result.trials.sdk![0]!;
    expect(sdk.spans).toBeGreaterThanOrEqual(sdk.reads.calls + sdk.appends.calls);
    expect(result.trials.unused![0]!.spans).toBe(0);
  });

  it('needs --before for the before system', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await benchMain(['--telemetry', '--systems', 'before'], io)).toBe(2);
    expect(output).toContain('--before DIR');
  });
});
