// bench --telemetry: what OpenTelemetry costs a store call. Point reads and appends from
// 64 callers on four systems, each trial in its own process, systems interleaved:
// the build given with --before (today's, without telemetry), this build with telemetry
// off, with the API loaded but no SDK (the "unused" cost, target within 2% of before),
// and under a registered SDK. Reports calls/s and the caller's CPU per call, medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFile } from './paths.js';
import { int, machineInfo, median, ratio, table, type MachineInfo, runChildTrial } from './report.js';
import type { PhaseResult, TelemetrySystem, TelemetryTrialConfig, TelemetryTrialResult } from './telemetry-trial.js';

export const TELEMETRY_SYSTEMS: readonly TelemetrySystem[] = ['before', 'off', 'unused', 'sdk'];

export interface TelemetryBenchOptions {
  systems: readonly TelemetrySystem[];
  beforeApp?: string;
  readers: number;
  callers: number;
  durationMs: number;
  trials: number;
  progress?: (line: string) => void;
}

type Phase = 'reads' | 'appends';

export interface TelemetryBenchResult {
  machine: MachineInfo;
  config: Omit<TelemetryBenchOptions, 'progress'>;
  trials: Record<string, TelemetryTrialResult[]>;
  /** Per system and phase: medians of calls/s and of the caller's CPU per call (µs). */
  summary: Record<string, Record<Phase, { callsPerSecond: number; callerUs: number | null; processUs: number }>>;
}

const runTrial = (config: TelemetryTrialConfig): Promise<TelemetryTrialResult> => runChildTrial(benchFile('telemetry-trial'), config);

export async function runTelemetryBench(options: TelemetryBenchOptions): Promise<TelemetryBenchResult> {
  const { progress, ...config } = options;
  const dir = mkdtempSync(join(tmpdir(), 'abathur-telemetry-bench-'));
  try {
    const trials: Record<string, TelemetryTrialResult[]> = {};
    for (let t = 0; t < options.trials; t++) {
      for (const system of options.systems) {
        const result = await runTrial({
          system,
          path: join(dir, `${system}-${t}.db`),
          readers: options.readers,
          callers: options.callers,
          durationMs: options.durationMs,
          ...(options.beforeApp === undefined ? {} : { beforeApp: options.beforeApp }),
        });
        (trials[system] ??= []).push(result);
        progress?.(
          `  trial ${t + 1}/${options.trials} ${system}: reads ${int(result.reads.callsPerSecond)}/s (${result.reads.cpu.callerUs} µs caller CPU), ` +
            `appends ${int(result.appends.callsPerSecond)}/s (${result.appends.cpu.callerUs} µs)`,
        );
      }
    }
    const summary: TelemetryBenchResult['summary'] = {};
    for (const [system, results] of Object.entries(trials)) {
      const of = (phase: Phase) => {
        const runs: PhaseResult[] = results.map((r) => r[phase]);
        const callers = runs.map((r) => r.cpu.callerUs).filter((v): v is number => v !== null);
        return {
          callsPerSecond: median(runs.map((r) => r.callsPerSecond)),
          callerUs: callers.length === 0 ? null : median(callers),
          processUs: median(runs.map((r) => r.cpu.processUs)),
        };
      };
      summary[system] = { reads: of('reads'), appends: of('appends') };
    }
    return { machine: machineInfo(), config, trials, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatTelemetryBench(result: TelemetryBenchResult): string {
  const { machine, config, summary } = result;
  const base = summary.before ?? summary.off;
  const baseName = summary.before === undefined ? 'off' : 'before';
  const rows = [['system', 'phase', 'calls/s', `vs ${baseName}`, 'caller µs/call', `vs ${baseName}`, 'process µs/call']];
  for (const [system, phases] of Object.entries(summary)) {
    for (const phase of ['reads', 'appends'] as const) {
      const m = phases[phase];
      const b = base?.[phase];
      rows.push([
        system,
        phase,
        int(m.callsPerSecond),
        b === undefined ? '-' : ratio(m.callsPerSecond, b.callsPerSecond),
        m.callerUs === null ? '-' : m.callerUs.toFixed(2),
        b === undefined || b.callerUs === null || m.callerUs === null ? '-' : ratio(m.callerUs, b.callerUs),
        m.processUs.toFixed(2),
      ]);
    }
  }
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}`,
    `workload: ${config.callers} callers, ${config.readers} readers, ${config.durationMs / 1000} s of point reads (sessions.getState) then ${config.durationMs / 1000} s of appends, ${config.trials} trials per system, interleaved, medians`,
    '  before: the --before build (no telemetry); off: telemetry: false; unused: the API loaded, no SDK; sdk: a registered tracer (batch processor, dropping exporter) and meter provider',
    '',
    table(rows),
  ].join('\n');
}
