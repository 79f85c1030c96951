import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Synchronous } from '../src/sqlite/connection.js';
import { defaultReaders } from '../src/api/options.js';
import { UsageError } from '../src/cli/usage-error.js';
import { int, machineInfo, median, medianTrial, mib, ratio, runTrial, table, us, type MachineInfo } from './report.js';
import { seedDatabase, type SeedInfo } from './seed.js';
import { runSweeps, SWEEPS, type SweepName } from './sweeps.js';
import { preparePostgres, type PostgresBench } from './postgres-bench.js';
import { ALL_SYSTEMS, SYSTEMS, type SystemName } from './systems.js';
import { OPERATIONS, parseMix, parseThink, type LoadResult, type Mix, type Think } from './workload.js';

export interface BenchIo {
  out(text: string): void;
}

export const BENCH_USAGE = `usage: abathur-store bench [options]

  --sessions N        concurrent callers (default 64)
  --readers N         reader threads for the facade and the naive pool (default: cores, 1-4)
  --duration S        seconds per trial (default 10)
  --mix NAME|op=w,..  read, mixed, heavy, write, append, or weights (default mixed)
  --synchronous M     normal or full (default normal)
  --systems A,B       of ${ALL_SYSTEMS.join(', ')} (default: the SQLite four)
  --engine postgres   the store on SQLite (facade) against the store on PostgreSQL (postgres),
                      same workload, same run: --systems facade,postgres
  --url URL           the PostgreSQL server for postgres (its login must create databases);
                      default: an embedded server started for the run (a development dependency)
  --pool N            the postgres system's connection pool (default: the store's, 10)
  --pg-commit MODE    the embedded server's synchronous_commit: on (its default: each commit
                      flushed) or off (flushed in the background, as SQLite's normal) (default on)
  --trials N          trials per system, interleaved; the median is reported (default 3)
  --think MODE        how callers pace themselves: immediate (yield to the event loop before each
                      call, no waiting: saturates), none (a tight await loop), or a mean think
                      time in ms between calls (a paced load below saturation) (default immediate)
  --seed-sessions N   sessions in the seeded database (default 10000)
  --sweep NAME        run a sweep instead: ${SWEEPS.join(', ')}, or all
                      (growth: how each operation's cost grows with the history it works on)
  --growth-scale F    scale the growth sweep's sizes, up to 100k events and 1M audit rows at 1 (default 1)
  --out DIR           where sweeps write their JSON and SVG charts (default ./bench-results)
  --json FILE         also write the results as JSON`;

export interface CompareResult {
  machine: MachineInfo & { postgres?: string };
  config: {
    sessions: number;
    readers: number;
    durationMs: number;
    mix: Mix;
    synchronous: Synchronous;
    think: Think;
    trials: number;
    pool?: number;
    postgresCommit?: string;
  };
  trials: Record<string, LoadResult[]>;
  /** The system every ratio is to: direct when it ran, else the facade (the store on SQLite). */
  baseline: string;
  summary: Record<string, { throughput: number; vsDirect: number | null; vsBaseline: number | null; median: LoadResult }>;
}

/** How the postgres system runs: on which server, with which pool. */
export interface PostgresOptions {
  url?: string;
  pool?: number;
  synchronousCommit: boolean;
}

/** Seeds a template database once; every trial runs on a fresh copy of it. */
export function seedTemplate(dir: string, sessions: number): SeedInfo {
  return seedDatabase(join(dir, 'template.db'), { sessions, memoryPerScope: 10, tasks: 50_000 });
}

/** Runs each system's trials, interleaved, and summarises them against the direct baseline. */
export async function compare(options: {
  systems: readonly SystemName[];
  sessions: number;
  readers: number;
  durationMs: number;
  mix: Mix;
  synchronous: Synchronous;
  think: Think;
  trials: number;
  seedSessions: number;
  postgres?: PostgresOptions;
  progress?: (line: string) => void;
}): Promise<CompareResult> {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-bench-'));
  let postgres: PostgresBench | undefined;
  try {
    const seed = seedTemplate(dir, options.seedSessions);
    if (options.systems.includes('postgres')) {
      postgres = await preparePostgres({
        ...(options.postgres?.url === undefined ? {} : { url: options.postgres.url }),
        template: seed.path,
        synchronousCommit: options.postgres?.synchronousCommit ?? true,
        ...(options.progress === undefined ? {} : { progress: options.progress }),
      });
    }
    const trials: Record<string, LoadResult[]> = {};
    let runId = 1;
    for (let t = 0; t < options.trials; t++) {
      for (const system of options.systems) {
        const url = system === 'postgres' ? await postgres!.trialUrl() : undefined;
        const result = await runTrial({
          ...(url === undefined ? {} : { url }),
          ...(options.postgres?.pool === undefined ? {} : { pool: options.postgres.pool }),
          system,
          template: seed.path,
          path: join(dir, `${system}.db`),
          seed,
          sessions: options.sessions,
          readers: options.readers,
          durationMs: options.durationMs,
          mix: options.mix,
          think: options.think,
          synchronous: options.synchronous,
          runId: runId++,
        });
        (trials[system] ??= []).push(result);
        options.progress?.(`  trial ${t + 1}/${options.trials} ${system}: ${int(result.throughput)} ops/s, event-loop p99 ${result.eventLoopDelay.p99} ms`);
      }
    }
    const throughputOf = (system: string): number | undefined =>
      trials[system] === undefined ? undefined : median(trials[system].map((r) => r.throughput));
    const directThroughput = throughputOf('direct');
    const baseline = trials.direct !== undefined ? 'direct' : 'facade';
    const baselineThroughput = throughputOf(baseline);
    const summary: CompareResult['summary'] = {};
    for (const [system, results] of Object.entries(trials)) {
      const throughput = median(results.map((r) => r.throughput));
      summary[system] = {
        throughput,
        vsDirect: directThroughput === undefined ? null : throughput / directThroughput,
        vsBaseline: baselineThroughput === undefined ? null : throughput / baselineThroughput,
        median: medianTrial(results),
      };
    }
    return {
      machine: { ...machineInfo(), ...(postgres === undefined ? {} : { postgres: postgres.version }) },
      config: {
        sessions: options.sessions,
        readers: options.readers,
        durationMs: options.durationMs,
        mix: options.mix,
        synchronous: options.synchronous,
        think: options.think,
        trials: options.trials,
        ...(postgres === undefined ? {} : { pool: options.postgres?.pool ?? 10, postgresCommit: postgres.commit }),
      },
      trials,
      baseline,
      summary,
    };
  } finally {
    await postgres?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCompare(result: CompareResult): string {
  const { summary, machine, config } = result;
  const baseline = summary[result.baseline]?.throughput ?? 0;
  const rows = [['system', 'ops/s', `vs ${result.baseline}`, 'event-loop p50', 'event-loop p99', 'errors', 'WAL peak']];
  for (const [system, s] of Object.entries(summary)) {
    rows.push([
      system,
      int(s.throughput),
      ratio(s.throughput, baseline),
      `${s.median.eventLoopDelay.p50} ms`,
      `${s.median.eventLoopDelay.p99} ms`,
      String(s.median.errors),
      mib(s.median.walPeakBytes),
    ]);
  }
  const ops = OPERATIONS.filter((op) => Object.values(summary).some((s) => s.median.latency[op] !== undefined));
  const latency = [['latency p50 / p99', ...Object.keys(summary)]];
  for (const op of ops) {
    latency.push([op, ...Object.values(summary).map((s) => `${us(s.median.latency[op]?.p50)} / ${us(s.median.latency[op]?.p99)}`)]);
  }
  const errors = Object.entries(summary).flatMap(([system, s]) => s.median.errorSamples.map((e) => `  ${system}: ${e}`));
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}` +
      (machine.postgres === undefined ? '' : `; ${machine.postgres} (${config.postgresCommit ?? ''}), pool ${config.pool ?? 10}`),
    `workload: ${config.sessions} sessions, ${config.readers} readers, ${config.durationMs / 1000} s x ${config.trials} trials (median), ` +
      `synchronous ${config.synchronous}, think ${typeof config.think === 'number' ? `${config.think} ms` : config.think}, mix ${JSON.stringify(config.mix)}`,
    '',
    table(rows),
    '',
    table(latency),
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
  ].join('\n');
}

/** `abathur-store bench`: parses the options and runs the comparison or a sweep. */
export async function runBench(argv: readonly string[], io: BenchIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sessions: { type: 'string', default: '64' },
      readers: { type: 'string', default: String(defaultReaders()) },
      duration: { type: 'string', default: '10' },
      mix: { type: 'string', default: 'mixed' },
      synchronous: { type: 'string', default: 'normal' },
      systems: { type: 'string' },
      trials: { type: 'string', default: '3' },
      think: { type: 'string', default: 'immediate' },
      'seed-sessions': { type: 'string', default: '10000' },
      sweep: { type: 'string' },
      'growth-scale': { type: 'string', default: '1' },
      engine: { type: 'string', default: 'sqlite' },
      url: { type: 'string' },
      pool: { type: 'string' },
      'pg-commit': { type: 'string', default: 'on' },
      out: { type: 'string', default: './bench-results' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    io.out(BENCH_USAGE);
    return 0;
  }
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a positive number, got "${text}"`);
    return n;
  };
  const synchronous = values.synchronous === 'full' ? 'full' : values.synchronous === 'normal' ? 'normal' : undefined;
  if (synchronous === undefined) throw new UsageError('--synchronous must be normal or full');
  const think = parseThink(values.think);
  if (values.engine !== 'sqlite' && values.engine !== 'postgres') throw new UsageError('--engine must be sqlite or postgres');
  const systems = (values.systems ?? (values.engine === 'postgres' ? 'facade,postgres' : SYSTEMS.join(','))).split(',') as SystemName[];
  for (const system of systems) if (!ALL_SYSTEMS.includes(system)) throw new UsageError(`unknown system "${system}"`);
  if (values['pg-commit'] !== 'on' && values['pg-commit'] !== 'off') throw new UsageError('--pg-commit must be on or off');
  const postgres: PostgresOptions = {
    ...(values.url === undefined ? {} : { url: values.url }),
    ...(values.pool === undefined ? {} : { pool: Math.round(positive('pool', values.pool)) }),
    synchronousCommit: values['pg-commit'] === 'on',
  };
  const common = {
    sessions: Math.round(positive('sessions', values.sessions)),
    readers: Math.round(positive('readers', values.readers)),
    durationMs: positive('duration', values.duration) * 1000,
    synchronous,
    think,
    trials: Math.round(positive('trials', values.trials)),
    seedSessions: Math.round(positive('seed-sessions', values['seed-sessions'])),
  } as const;

  if (values.sweep !== undefined) {
    const names = values.sweep === 'all' ? [...SWEEPS] : values.sweep.split(',');
    for (const name of names) if (!(SWEEPS as readonly string[]).includes(name)) throw new UsageError(`unknown sweep "${name}"`);
    const growthScale = positive('growth-scale', values['growth-scale']);
    const report = await runSweeps(names as SweepName[], { ...common, out: values.out, growthScale, progress: io.out });
    io.out(report.text);
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(report.json, null, 2));
    return 0;
  }

  const mix = parseMix(values.mix);
  io.out(`running ${systems.join(', ')}...`);
  const result = await compare({ ...common, systems, mix, postgres, progress: io.out });
  io.out(formatCompare(result));
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify(result, null, 2));
    io.out(`\nJSON written to ${values.json}`);
  }
  return 0;
}
