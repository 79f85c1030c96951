import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDbPath } from './helpers/temp.js';

const KILLS = Number(process.env.ABATHUR_KILLS ?? 100);
const fixture = fileURLToPath(new URL('./fixtures/worker-deaths.mjs', import.meta.url));

describe('worker deaths', () => {
  // The fixture bounds its own waits (a call pending 10 s after the load stops counts as
  // unsettled and ends the run); the child's time limit is only a backstop for a fixture
  // that hangs outright, and it is well inside the test's.
  it(`${KILLS} reader and writer kills under load: every call settles in time with the right code, and the process exits cleanly`, { timeout: 4 * 60_000 }, async () => {
    const started = performance.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--expose-gc', fixture, tempDbPath(), String(KILLS)], { timeout: 3 * 60_000 }, (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
    });
    expect(stderr).toBe('');
    const summary = JSON.parse(stdout) as {
      kills: number;
      calls: number;
      unsettled: number;
      late: number;
      codes: Record<string, number>;
      restarts: { readers: number; writer: number };
      readerThreads: number;
      readAfterKills: boolean;
      heapGrowthMiB: number;
    };
    console.log(`worker deaths: ${JSON.stringify(summary)} in ${Math.round(performance.now() - started)} ms`);
    expect(summary.unsettled).toBe(0);
    expect(code).toBe(0);
    expect(summary.late).toBe(0);
    expect(summary.restarts).toEqual({ readers: KILLS / 2, writer: KILLS / 2 });
    expect(summary.readerThreads).toBe(2);
    expect(summary.readAfterKills).toBe(true);
    // Reads that died with a reader are WORKER_CRASHED; writes caught mid-commit are OUTCOME_UNKNOWN.
    for (const key of Object.keys(summary.codes)) expect(['read ok', 'write ok', 'read WORKER_CRASHED', 'write OUTCOME_UNKNOWN']).toContain(key);
    expect(summary.codes['read ok']).toBeGreaterThan(KILLS * 10);
    expect(summary.heapGrowthMiB).toBeLessThan(32);
  });
});
