import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ADK_POSTGRES_SYSTEMS, ADK_SYSTEMS, formatAdkBench, runAdkBench } from './adk.js';
import { formatRunnerBench, RUNNER_SYSTEMS, runRunnerBench, type RunnerSystem } from './adk-runner.js';
import { formatReadsBench, READS_SYSTEMS, runReadsBench, type ReadsSystem } from './session-reads.js';
import { formatTelemetryBench, runTelemetryBench, TELEMETRY_SYSTEMS } from './telemetry.js';
import type { TelemetrySystem } from './telemetry-trial.js';
import type { AdkSystemName } from './adk-trial.js';
import { int, machineInfo, median, medianTrial, mib, ratio, runTrial, table, us, type MachineInfo } from './report.js';
import { seedTemplate } from './seed.js';
import { runSweeps, SWEEPS, type SweepName } from './sweeps.js';
import type { PostgresBench } from './postgres-bench.js';
import { ALL_SYSTEMS, SYSTEMS, type SystemName } from './systems.js';
import { assertWriteMix } from './writer-limit.js';
import { OPERATIONS, parseMix, parseThink, type LoadResult, type Mix, type Think } from './workload.js';
import { UsageError, defaultReaders, type Synchronous } from '../src/internal.js';

export interface BenchIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const BENCH_USAGE = `usage: npm run bench -- [options]    (node dist/bench/main.js [options])

  --sessions N        concurrent callers (default 64)
  --readers N         reader threads for the facade and the naive pool (default: cores, 1-4)
  --duration S        seconds per trial (default 10)
  --mix NAME|op=w,..  read, mixed, heavy, write, append, or weights (default mixed)
  --synchronous M     normal or full (default normal)
  --systems A,B       of ${ALL_SYSTEMS.join(', ')} (default ${SYSTEMS.join(',')}, the SQLite four);
                      writer-limit is the single-connection write ceiling, for write-only mixes;
                      before is the facade of the build given with --before
  --before DIR        another build of this package (its root, built): the before system
  --engine postgres   the store on SQLite (facade) against the store on PostgreSQL (postgres),
                      same workload, same run: --systems facade,postgres
  --processes 1,2,4   with --engine postgres: the load from that many processes at once against one
                      server, the callers split between them (--svg FILE draws the chart)
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
  --adk               ADK session services instead: appends/s and getSession latency of
                      AbathurSessionService against ADK's DatabaseSessionService (SQLite
                      file) and InMemorySessionService; --systems picks among
                      ${ADK_SYSTEMS.join(', ')}
  --adk-runner        ADK Runner turns (getSession, then two appendEvent) in --sessions sessions
                      seeded to each of --events N,N (10,100,1000,10000) events: turns/s, event-loop
                      delay and caller CPU per turn of ${RUNNER_SYSTEMS.join(', ')} (before: --before DIR);
                      --decode-cache-bytes N sets abathur's decodeCacheBytes
  --session-reads     --sessions callers each reading its own session of --events N (one length,
                      e.g. 200) with sessions.get(id, { lastEvents: N }): reads/s, event-loop delay and
                      caller CPU per read of ${READS_SYSTEMS.join(', ')} (after: decodeCacheBytes default,
                      cache-off: 0, before: --before DIR)
  --telemetry         what OpenTelemetry costs a call instead: point reads and appends from
                      --sessions callers on ${TELEMETRY_SYSTEMS.join(', ')} (before needs --before DIR;
                      without it, the other three); each trial in its own process
  --out DIR           where sweeps write their JSON and SVG charts (default ./bench-results)
  --json FILE         also write the results as JSON
  --langgraph         the LangGraph checkpointer benchmark instead: AbathurSaver against LangGraph's
                      SqliteSaver and MemorySaver; --threads N concurrent graph threads (64),
                      --invokes N per thread (20), --workloads of graph, graph-large, saver,
                      saver-large (all), --lg-systems of abathur, sqlite, memory (all), and before
                      (AbathurSaver of the build given with --before DIR; in the default with it), --trials, --json
  --langgraph-search  exhaustive semantic search of the LangGraph store: --items N,N (1000,10000,100000)
                      items of --dims N,N (384,1536) floats, ranked against 10 queries on --readers
                      readers (each scores a share) and on one
  --wakeups           commit to wake-up instead: one parked claimNext({ waitMs }) takes --count N (200)
                      tasks created --gap MS (20) apart, in this process and from another, on SQLite
                      and PostgreSQL, beside graphile-worker 0.17.3 on the same embedded server: latency
                      from the create called and from its commit acknowledged; then the CPU of
                      --watchers N (1000) parked watchers and 64 parked claims over --idle S (5) seconds
  --claim-throughput  --agents N (64) loops of claimNext({ waitMs }) then complete, against a producer
                      in another process creating tasks at --rate N/s (2000) for --duration S (5), on
                      --systems of sqlite, postgres, graphile-worker (all; graphile-worker 0.17.3 with
                      concurrency N on the same embedded server): every task claimed exactly once
                      (exit 1 otherwise), claim latency, backlog, CPU per task`;

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
  summary: Record<string, { throughput: number; vsDirect: number | null; vsBaseline: number | null; vsWriterLimit: number | null; median: LoadResult }>;
}

/** How the postgres system runs: on which server, with which pool. */
export interface PostgresOptions {
  url?: string;
  pool?: number;
  synchronousCommit: boolean;
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
  beforeApp?: string;
  postgres?: PostgresOptions;
  progress?: (line: string) => void;
}): Promise<CompareResult> {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-bench-'));
  let postgres: PostgresBench | undefined;
  try {
    const seed = seedTemplate(dir, options.seedSessions);
    if (options.systems.includes('postgres')) {
      // Loaded only when asked for: `pg` is a dev dependency, absent from a bench packed
      // with the runtime modules alone (bench/device-pack.sh).
      const { preparePostgres } = await import('./postgres-bench.js');
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
          ...(options.beforeApp === undefined ? {} : { beforeApp: options.beforeApp }),
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
    const limitThroughput = throughputOf('writer-limit');
    const summary: CompareResult['summary'] = {};
    for (const [system, results] of Object.entries(trials)) {
      const throughput = median(results.map((r) => r.throughput));
      summary[system] = {
        throughput,
        vsDirect: directThroughput === undefined ? null : throughput / directThroughput,
        vsBaseline: baselineThroughput === undefined ? null : throughput / baselineThroughput,
        vsWriterLimit: limitThroughput === undefined ? null : throughput / limitThroughput,
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
  const limit = summary['writer-limit']?.throughput;
  const rows = [
    [
      'system',
      'ops/s',
      `vs ${result.baseline}`,
      ...(limit === undefined ? [] : ['vs writer-limit']),
      'caller CPU/op',
      'busiest other thread CPU/op',
      'process CPU/op',
      'event-loop p50',
      'event-loop p99',
      'errors',
      'WAL peak',
    ],
  ];
  const cpu = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)} us`);
  for (const [system, s] of Object.entries(summary)) {
    rows.push([
      system,
      int(s.throughput),
      ratio(s.throughput, baseline),
      ...(limit === undefined ? [] : [ratio(s.throughput, limit)]),
      cpu(s.median.cpu.callerUs),
      cpu(s.median.cpu.threadsUs?.[0] ?? null),
      cpu(s.median.cpu.processUs),
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

/** The benchmark's command line: runs it, and resolves to the exit code (2 for a usage mistake). */
export async function benchMain(argv: readonly string[], io: BenchIo): Promise<number> {
  try {
    return await runBench(argv, io);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.err(`bench: ${error.message}\n\n${BENCH_USAGE}`);
      return 2;
    }
    throw error;
  }
}

/** Parses the options and runs the comparison or a sweep. */
export async function runBench(argv: readonly string[], io: BenchIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sessions: { type: 'string', default: '64' },
      readers: { type: 'string', default: String(defaultReaders()) },
      duration: { type: 'string' },
      mix: { type: 'string', default: 'mixed' },
      synchronous: { type: 'string', default: 'normal' },
      systems: { type: 'string' },
      trials: { type: 'string', default: '3' },
      think: { type: 'string', default: 'immediate' },
      'seed-sessions': { type: 'string', default: '10000' },
      sweep: { type: 'string' },
      'growth-scale': { type: 'string', default: '1' },
      adk: { type: 'boolean', default: false },
      'adk-runner': { type: 'boolean', default: false },
      'session-reads': { type: 'boolean', default: false },
      events: { type: 'string', default: '10,100,1000,10000' },
      'decode-cache-bytes': { type: 'string' },
      telemetry: { type: 'boolean', default: false },
      engine: { type: 'string', default: 'sqlite' },
      url: { type: 'string' },
      pool: { type: 'string' },
      'pg-commit': { type: 'string', default: 'on' },
      processes: { type: 'string' },
      svg: { type: 'string' },
      out: { type: 'string', default: './bench-results' },
      json: { type: 'string' },
      before: { type: 'string' },
      help: { type: 'boolean', default: false },
      langgraph: { type: 'boolean', default: false },
      threads: { type: 'string', default: '64' },
      invokes: { type: 'string', default: '20' },
      workloads: { type: 'string' },
      'lg-systems': { type: 'string' },
      'langgraph-search': { type: 'boolean', default: false },
      wakeups: { type: 'boolean', default: false },
      count: { type: 'string', default: '200' },
      gap: { type: 'string', default: '20' },
      idle: { type: 'string', default: '5' },
      watchers: { type: 'string', default: '1000' },
      'claim-throughput': { type: 'boolean', default: false },
      agents: { type: 'string', default: '64' },
      rate: { type: 'string', default: '2000' },
      items: { type: 'string', default: '1000,10000,100000' },
      dims: { type: 'string', default: '384,1536' },
    },
  });
  if (values.help) {
    io.out(BENCH_USAGE);
    return 0;
  }
  if (values.langgraph) return runLangGraph(values, io);
  if (values['langgraph-search']) return runLangGraphSearch(values, io);
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a positive number, got "${text}"`);
    return n;
  };
  if (values.wakeups) {
    const { runWakeupBench, formatWakeups } = await import('./wakeups.js');
    const result = await runWakeupBench({
      count: Math.round(positive('count', values.count)),
      gapMs: positive('gap', values.gap),
      idleSeconds: positive('idle', values.idle),
      watchers: Math.round(positive('watchers', values.watchers)),
      progress: io.out,
    });
    io.out(`${formatWakeups(result)}\nload average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  }
  if (values['claim-throughput']) return runClaimThroughput(values, positive, io);
  const duration = values.duration ?? '10';
  const synchronous = values.synchronous === 'full' ? 'full' : values.synchronous === 'normal' ? 'normal' : undefined;
  if (synchronous === undefined) throw new UsageError('--synchronous must be normal or full');
  const think = parseThink(values.think);
  const listed = (known: readonly string[], allowed: readonly string[] = known): string[] => {
    const names = values.systems === undefined ? [...known] : values.systems.split(',');
    for (const name of names) if (!allowed.includes(name)) throw new UsageError(`unknown system "${name}"`);
    return names;
  };
  if (values['adk-runner']) {
    const systems = listed(values.before === undefined ? RUNNER_SYSTEMS.filter((s) => s !== 'before') : RUNNER_SYSTEMS, RUNNER_SYSTEMS) as RunnerSystem[];
    if (systems.includes('before') && values.before === undefined) throw new UsageError('--systems before needs --before DIR, the root of another build');
    const events = values.events.split(',').map((text) => Math.round(positive('events', text)));
    const result = await runRunnerBench({
      systems,
      ...(values.before === undefined ? {} : { beforeApp: values.before }),
      sessions: Math.round(positive('sessions', values.sessions)),
      events,
      durationMs: positive('duration', duration) * 1000,
      trials: Math.round(positive('trials', values.trials)),
      readers: Math.round(positive('readers', values.readers)),
      ...(values['decode-cache-bytes'] === undefined ? {} : { decodeCacheBytes: Math.round(Number(values['decode-cache-bytes'])) }),
      progress: io.out,
    });
    io.out(formatRunnerBench(result));
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  }
  if (values['session-reads']) {
    const systems = listed(values.before === undefined ? READS_SYSTEMS.filter((s) => s !== 'before') : READS_SYSTEMS, READS_SYSTEMS) as ReadsSystem[];
    if (systems.includes('before') && values.before === undefined) throw new UsageError('--systems before needs --before DIR, the root of another build');
    const result = await runReadsBench({
      systems,
      ...(values.before === undefined ? {} : { beforeApp: values.before }),
      sessions: Math.round(positive('sessions', values.sessions)),
      events: Math.round(positive('events', values.events)),
      durationMs: positive('duration', duration) * 1000,
      trials: Math.round(positive('trials', values.trials)),
      readers: Math.round(positive('readers', values.readers)),
      progress: io.out,
    });
    io.out(formatReadsBench(result));
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  }
  if (values.adk) {
    const adk = listed(ADK_SYSTEMS, [...ADK_SYSTEMS, ...ADK_POSTGRES_SYSTEMS]) as AdkSystemName[];
    io.out(`running ${adk.join(', ')}...`);
    const result = await runAdkBench({
      systems: adk,
      sessions: Math.round(positive('sessions', values.sessions)),
      readers: Math.round(positive('readers', values.readers)),
      durationMs: positive('duration', duration) * 1000,
      trials: Math.round(positive('trials', values.trials)),
      synchronous,
      ...(values.url === undefined ? {} : { url: values.url }),
      progress: io.out,
    });
    io.out(formatAdkBench(result));
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  }
  if (values.telemetry) {
    const known = values.before === undefined ? TELEMETRY_SYSTEMS.filter((name) => name !== 'before') : TELEMETRY_SYSTEMS;
    const systems = listed(known, TELEMETRY_SYSTEMS) as TelemetrySystem[];
    if (systems.includes('before') && values.before === undefined) throw new UsageError('--systems before needs --before DIR, the root of another build');
    io.out(`running ${systems.join(', ')}...`);
    const result = await runTelemetryBench({
      systems,
      ...(values.before === undefined ? {} : { beforeApp: values.before }),
      readers: Math.round(positive('readers', values.readers)),
      callers: Math.round(positive('sessions', values.sessions)),
      durationMs: positive('duration', duration) * 1000,
      trials: Math.round(positive('trials', values.trials)),
      progress: io.out,
    });
    io.out(formatTelemetryBench(result));
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  }
  if (values.engine !== 'sqlite' && values.engine !== 'postgres') throw new UsageError('--engine must be sqlite or postgres');
  if (values['pg-commit'] !== 'on' && values['pg-commit'] !== 'off') throw new UsageError('--pg-commit must be on or off');
  const postgres: PostgresOptions = {
    ...(values.url === undefined ? {} : { url: values.url }),
    ...(values.pool === undefined ? {} : { pool: Math.round(positive('pool', values.pool)) }),
    synchronousCommit: values['pg-commit'] === 'on',
  };
  const systems = listed(values.engine === 'postgres' ? ['facade', 'postgres'] : SYSTEMS, ALL_SYSTEMS) as SystemName[];
  if (systems.includes('before') && values.before === undefined) throw new UsageError('--systems before needs --before DIR, the root of another build');
  const common = {
    sessions: Math.round(positive('sessions', values.sessions)),
    readers: Math.round(positive('readers', values.readers)),
    durationMs: positive('duration', duration) * 1000,
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
  if (values.processes !== undefined) {
    if (values.engine !== 'postgres') throw new UsageError('--processes measures the PostgreSQL engine: add --engine postgres');
    const processes = values.processes.split(',').map((text) => Math.round(positive('processes', text)));
    const { runScaling, formatScaling, writeScaling } = await import('./postgres-scaling.js');
    const result = await runScaling({ ...common, ...postgres, processes, mix, progress: io.out });
    io.out(formatScaling(result));
    writeScaling(result, values.json, values.svg);
    return 0;
  }
  if (systems.includes('writer-limit')) assertWriteMix(mix);
  io.out(`running ${systems.join(', ')}...`);
  const result = await compare({ ...common, systems, mix, postgres, ...(values.before === undefined ? {} : { beforeApp: values.before }), progress: io.out });
  io.out(formatCompare(result));
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify(result, null, 2));
    io.out(`\nJSON written to ${values.json}`);
  }
  return 0;
}

/** `bench --claim-throughput`: loads pg and graphile-worker (development dependencies) only when asked for. */
async function runClaimThroughput(
  values: { duration?: string; rate: string; agents: string; systems?: string; json?: string },
  positive: (name: string, text: string) => number,
  io: BenchIo,
): Promise<number> {
  const ct = await import('./claim-throughput.js');
  const names: Record<string, (typeof ct.CLAIM_SYSTEMS)[number]> = { sqlite: 'abathur sqlite', postgres: 'abathur postgres', 'graphile-worker': 'graphile-worker 0.17.3' };
  const systems = (values.systems ?? Object.keys(names).join(',')).split(',').map((name) => {
    const system = names[name];
    if (system === undefined) throw new UsageError(`--claim-throughput takes --systems of ${Object.keys(names).join(', ')}; got "${name}"`);
    return system;
  });
  try {
    const result = await ct.runClaimThroughputBench({
      systems,
      durationMs: positive('duration', values.duration ?? '5') * 1000,
      rate: positive('rate', values.rate),
      agents: Math.round(positive('agents', values.agents)),
      progress: io.out,
    });
    io.out(ct.formatClaimThroughput(result));
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  } catch (error) {
    if (!(error instanceof ct.ExactlyOnceError)) throw error;
    io.err(`bench: FAILED: ${error.message}`);
    return 1;
  }
}

/** `bench --langgraph`: loads LangGraph (development dependencies) only when asked for. */
async function runLangGraph(
  values: { threads: string; invokes: string; trials: string; workloads?: string; 'lg-systems'?: string; json?: string; before?: string; url?: string },
  io: BenchIo,
): Promise<number> {
  const lg = await import('./langgraph.js');
  const count = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
    return n;
  };
  const pick = <T extends string>(name: string, text: string | undefined, all: readonly T[], defaults: readonly T[] = all): T[] => {
    if (text === undefined) return [...defaults];
    const chosen = text.split(',');
    for (const c of chosen) if (!(all as readonly string[]).includes(c)) throw new UsageError(`--${name} takes ${all.join(', ')}; got "${c}"`);
    return chosen as T[];
  };
  const report = await lg.runLangGraphBench({
    threads: count('threads', values.threads),
    invokes: count('invokes', values.invokes),
    trials: count('trials', values.trials),
    workloads: pick('workloads', values.workloads, lg.LG_WORKLOADS),
    // The PostgreSQL systems only when named: they start a server. `before` by default when --before is given.
    systems: pick('lg-systems', values['lg-systems'], lg.LG_SYSTEMS, values.before === undefined ? ['abathur', 'sqlite', 'memory'] : ['abathur', 'sqlite', 'memory', 'before']),
    ...(values.before === undefined ? {} : { beforeApp: values.before }),
    ...(values.url === undefined ? {} : { url: values.url }),
    progress: io.out,
  });
  io.out(lg.formatLangGraphBench(report));
  if (values.json !== undefined) {
    lg.writeLangGraphJson(values.json, report);
    io.out(`\nJSON written to ${values.json}`);
  }
  return 0;
}

/** `bench --langgraph-search`: ranked search cost by collection size and vector width. */
async function runLangGraphSearch(values: { items: string; dims: string; readers: string; json?: string }, io: BenchIo): Promise<number> {
  const lg = await import('./langgraph.js');
  const list = (name: string, text: string): number[] =>
    text.split(',').map((part) => {
      const n = Number(part);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} takes positive integers separated by commas, got "${text}"`);
      return n;
    });
  const [readers] = list('readers', values.readers);
  const rows = await lg.runSearchBench(list('items', values.items), list('dims', values.dims), readers!, io.out);
  io.out(lg.formatSearchBench(rows));
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify({ machine: machineInfo(), rows }, null, 2));
    io.out(`\nJSON written to ${values.json}`);
  }
  return 0;
}
