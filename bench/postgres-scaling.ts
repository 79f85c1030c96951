// `bench --engine postgres --processes 1,2,4`: the mixed load against one PostgreSQL server
// from 1, 2 and 4 processes at once, each with its own store (its own pool of `--pool`
// connections), the callers split between them (64 in all by default, as in the one-process
// run). Each point runs on a fresh clone of the seeded template; the processes' throughputs
// add up; the one-process point is the baseline of the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineChart } from './charts.js';
import { preparePostgres } from './postgres-bench.js';
import { int, machineInfo, median, runTrial, table, type MachineInfo } from './report.js';
import { seedTemplate } from './seed.js';
import type { Synchronous } from '../src/sqlite/connection.js';
import type { Mix, Think } from './workload.js';

export interface ScalingOptions {
  processes: readonly number[];
  /** Callers in all, split evenly between the processes. */
  sessions: number;
  durationMs: number;
  trials: number;
  seedSessions: number;
  mix: Mix;
  think: Think;
  synchronous: Synchronous;
  url?: string;
  pool?: number;
  synchronousCommit: boolean;
  progress?: (line: string) => void;
}

export interface ScalingPoint {
  processes: number;
  /** Operations per second, all processes together (median trial). */
  throughput: number;
  vsOne: number;
  errors: number;
  /** Per process, in the median trial: ops/s and whole-process CPU per operation (µs). */
  perProcess: { throughput: number; cpuUs: number; eventLoopP99: number }[];
  trials: number[];
}

export interface ScalingResult {
  machine: MachineInfo & { postgres: string; commit: string };
  config: Omit<ScalingOptions, 'progress' | 'url'>;
  points: ScalingPoint[];
}

export async function runScaling(options: ScalingOptions): Promise<ScalingResult> {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-scaling-'));
  const seed = seedTemplate(dir, options.seedSessions);
  const postgres = await preparePostgres({
    ...(options.url === undefined ? {} : { url: options.url }),
    template: seed.path,
    synchronousCommit: options.synchronousCommit,
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
  try {
    const runs = new Map<number, { total: number; errors: number; per: ScalingPoint['perProcess'] }[]>();
    let runId = 1;
    for (let t = 0; t < options.trials; t++) {
      for (const processes of options.processes) {
        const url = await postgres.trialUrl();
        const results = await Promise.all(
          Array.from({ length: processes }, () =>
            runTrial({
              url,
              ...(options.pool === undefined ? {} : { pool: options.pool }),
              system: 'postgres',
              template: seed.path,
              path: join(dir, 'unused.db'),
              seed,
              sessions: Math.max(1, Math.round(options.sessions / processes)),
              readers: 1,
              durationMs: options.durationMs,
              mix: options.mix,
              think: options.think,
              synchronous: options.synchronous,
              runId: runId++,
            }),
          ),
        );
        const total = results.reduce((n, r) => n + r.throughput, 0);
        const errors = results.reduce((n, r) => n + r.errors, 0);
        const per = results.map((r) => ({
          throughput: Math.round(r.throughput),
          cpuUs: Math.round(r.cpu.processUs),
          eventLoopP99: r.eventLoopDelay.p99,
        }));
        (runs.get(processes) ?? runs.set(processes, []).get(processes)!).push({ total, errors, per });
        options.progress?.(`  trial ${t + 1}/${options.trials}, ${processes} process(es): ${int(total)} ops/s (${per.map((p) => int(p.throughput)).join(' + ')}), ${errors} errors`);
      }
    }
    const points: ScalingPoint[] = [];
    for (const processes of options.processes) {
      const trials = runs.get(processes)!;
      const sorted = [...trials].sort((a, b) => a.total - b.total);
      const mid = sorted[(sorted.length - 1) >> 1]!;
      points.push({ processes, throughput: Math.round(median(trials.map((r) => r.total))), vsOne: 0, errors: mid.errors, perProcess: mid.per, trials: trials.map((r) => Math.round(r.total)) });
    }
    const one = points.find((p) => p.processes === Math.min(...options.processes))!.throughput;
    for (const point of points) point.vsOne = point.throughput / one;
    const { progress: _progress, url: _url, ...config } = options;
    return { machine: { ...machineInfo(), postgres: postgres.version, commit: postgres.commit }, config, points };
  } finally {
    await postgres.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatScaling(result: ScalingResult): string {
  const { machine, config } = result;
  const rows = [['processes', 'ops/s (all)', 'vs 1 process', 'per process ops/s', 'CPU µs/op per process', 'event-loop p99 per process', 'errors', 'trials ops/s']];
  for (const p of result.points) {
    rows.push([
      String(p.processes),
      int(p.throughput),
      `${p.vsOne.toFixed(2)}x`,
      p.perProcess.map((x) => int(x.throughput)).join(' + '),
      p.perProcess.map((x) => String(x.cpuUs)).join(', '),
      p.perProcess.map((x) => `${x.eventLoopP99} ms`).join(', '),
      String(p.errors),
      p.trials.map(int).join(', '),
    ]);
  }
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; ${machine.postgres} (${machine.commit}) on the same machine`,
    `workload: the mixed load, ${config.sessions} callers in all split between the processes, ${config.durationMs / 1000} s per point, ` +
      `${config.trials} trials (median), pool ${config.pool ?? 10} per process, a fresh clone of the seeded template per point`,
    '',
    table(rows),
  ].join('\n');
}

export function scalingChart(result: ScalingResult): string {
  return lineChart({
    title: `Mixed load on one PostgreSQL server, ${result.config.sessions} callers split between processes`,
    xLabel: 'processes',
    yLabel: 'operations per second (all processes)',
    categoricalX: true,
    series: [{ name: 'AbathurStore on PostgreSQL', points: result.points.map((p) => [p.processes, p.throughput] as const) }],
  });
}

export function writeScaling(result: ScalingResult, json: string | undefined, svg: string | undefined): void {
  if (json !== undefined) writeFileSync(json, JSON.stringify(result, null, 2));
  if (svg !== undefined) writeFileSync(svg, scalingChart(result));
}
