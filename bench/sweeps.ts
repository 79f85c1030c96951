import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openWriterConnection, type Synchronous } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import type { OperationCall } from '../src/sqlite/protocol.js';
import { WriteExecutor } from '../src/sqlite/write-executor.js';
import { lineChart } from './charts.js';
import { growthSweep } from './growth.js';
import { int, machineInfo, median, medianTrial, ratio, runTrial, table, us } from './report.js';
import { seedDatabase, type SeedInfo } from './seed.js';
import type { SystemName } from './systems.js';
import { MIXES, type LoadResult, type Mix, type Think } from './workload.js';

export const SWEEPS = ['sessions', 'readers', 'commit', 'indexes', 'growth'] as const;
export type SweepName = (typeof SWEEPS)[number];

export interface SweepOptions {
  readers: number;
  durationMs: number;
  synchronous: Synchronous;
  think: Think;
  trials: number;
  seedSessions: number;
  out: string;
  /** Scales the growth sweep's sizes (1: up to 100k events, 1M audit rows). */
  growthScale?: number;
  progress?: (line: string) => void;
}

interface Context {
  options: SweepOptions;
  dir: string;
  seed: SeedInfo;
  runId: number;
}

/** The median of `trials` runs of one configuration. */
async function measure(
  ctx: Context,
  system: SystemName,
  config: { sessions: number; readers?: number; mix: Mix; synchronous?: Synchronous; maxWriteBatch?: number },
): Promise<LoadResult> {
  const results: LoadResult[] = [];
  for (let t = 0; t < ctx.options.trials; t++) {
    results.push(
      await runTrial({
        system,
        template: ctx.seed.path,
        path: join(ctx.dir, `${system}.db`),
        seed: ctx.seed,
        sessions: config.sessions,
        readers: config.readers ?? ctx.options.readers,
        durationMs: ctx.options.durationMs,
        mix: config.mix,
        think: ctx.options.think,
        synchronous: config.synchronous ?? ctx.options.synchronous,
        ...(config.maxWriteBatch === undefined ? {} : { maxWriteBatch: config.maxWriteBatch }),
        runId: ctx.runId++,
      }),
    );
  }
  const result = medianTrial(results);
  ctx.options.progress?.(
    `  ${system} ${JSON.stringify(config)}: ${int(median(results.map((r) => r.throughput)))} ops/s (trials ${results.map((r) => int(r.throughput)).join(', ')})`,
  );
  return { ...result, throughput: median(results.map((r) => r.throughput)) };
}

const SESSION_COUNTS = [1, 8, 32, 64, 128];

async function sessionsSweep(ctx: Context) {
  const points: { sessions: number; system: SystemName; throughput: number; p99: number; eventLoopP99: number }[] = [];
  for (const sessions of SESSION_COUNTS) {
    for (const system of ['facade', 'direct'] as const) {
      const r = await measure(ctx, system, { sessions, mix: MIXES.read! });
      points.push({ sessions, system, throughput: r.throughput, p99: r.latency.getSession?.p99 ?? 0, eventLoopP99: r.eventLoopDelay.p99 });
    }
  }
  const series = (key: 'throughput' | 'p99') =>
    (['facade', 'direct'] as const).map((system) => ({
      name: system === 'facade' ? 'abathur-store' : 'direct better-sqlite3',
      points: points.filter((p) => p.system === system).map((p) => [p.sessions, p[key]] as const),
    }));
  writeFileSync(
    join(ctx.options.out, 'sessions-throughput.svg'),
    lineChart({ title: 'Point reads per second vs concurrent sessions', xLabel: 'concurrent sessions', yLabel: 'reads / s', series: series('throughput'), categoricalX: true }),
  );
  writeFileSync(
    join(ctx.options.out, 'sessions-p99.svg'),
    lineChart({ title: 'Point-read p99 latency vs concurrent sessions', xLabel: 'concurrent sessions', yLabel: 'p99 latency (µs)', series: series('p99'), categoricalX: true }),
  );
  const rows = [['sessions', 'facade reads/s', 'direct reads/s', 'facade/direct', 'facade p99', 'direct p99', 'facade loop p99', 'direct loop p99']];
  for (const sessions of SESSION_COUNTS) {
    const f = points.find((p) => p.sessions === sessions && p.system === 'facade')!;
    const d = points.find((p) => p.sessions === sessions && p.system === 'direct')!;
    rows.push([String(sessions), int(f.throughput), int(d.throughput), ratio(f.throughput, d.throughput), us(f.p99), us(d.p99), `${f.eventLoopP99} ms`, `${d.eventLoopP99} ms`]);
  }
  return { json: points, text: `sessions sweep (point reads)\n${table(rows)}\ncharts: sessions-throughput.svg, sessions-p99.svg` };
}

async function readersSweep(ctx: Context) {
  const counts = [...new Set([1, 2, 3, 4, Math.max(4, machineInfo().cores)])].sort((a, b) => a - b);
  const points: { readers: number; throughput: number; p99: number }[] = [];
  for (const readers of counts) {
    const r = await measure(ctx, 'facade', { sessions: 64, readers, mix: MIXES.heavy! });
    points.push({ readers, throughput: r.throughput, p99: r.latency.context?.p99 ?? 0 });
  }
  const direct = await measure(ctx, 'direct', { sessions: 64, mix: MIXES.heavy! });
  writeFileSync(
    join(ctx.options.out, 'readers-throughput.svg'),
    lineChart({
      title: 'Context synthesis per second vs reader threads',
      xLabel: 'reader threads',
      yLabel: 'context reads / s',
      series: [
        { name: 'abathur-store', points: points.map((p) => [p.readers, p.throughput] as const) },
        { name: 'direct (1 thread)', points: counts.map((c) => [c, direct.throughput] as const) },
      ],
    }),
  );
  const one = points.find((p) => p.readers === 1)!.throughput;
  const rows = [['readers', 'context reads/s', 'vs 1 reader', 'p99']];
  for (const p of points) rows.push([String(p.readers), int(p.throughput), ratio(p.throughput, one), us(p.p99)]);
  rows.push(['direct', int(direct.throughput), ratio(direct.throughput, one), us(direct.latency.context?.p99)]);
  return { json: { points, direct: direct.throughput }, text: `readers sweep (context synthesis, 64 sessions)\n${table(rows)}\nchart: readers-throughput.svg` };
}

async function commitSweep(ctx: Context) {
  const rows = [['synchronous', 'group commit writes/s', 'one txn per call writes/s', 'group / per call']];
  const json: Record<string, { group: number; perCall: number; ratio: number }> = {};
  for (const synchronous of ['normal', 'full'] as const) {
    const group = await measure(ctx, 'facade', { sessions: 64, mix: MIXES.write!, synchronous });
    const perCall = await measure(ctx, 'facade', { sessions: 64, mix: MIXES.write!, synchronous, maxWriteBatch: 1 });
    json[synchronous] = { group: group.throughput, perCall: perCall.throughput, ratio: group.throughput / perCall.throughput };
    rows.push([synchronous, int(group.throughput), int(perCall.throughput), ratio(group.throughput, perCall.throughput)]);
  }
  return { json, text: `group commit vs one transaction per call (64 writers, audited metric writes)\n${table(rows)}` };
}

/** memory.add (with its audit row) through the group-commit executor, with and without the index set. */
function indexesSweep(ctx: Context) {
  const inserts = 20_000;
  const run = (withIndexes: boolean, trial: number): number => {
    const path = join(ctx.dir, `indexes-${withIndexes}-${trial}.db`);
    seedDatabase(path, { sessions: 100, memoryPerScope: 5, tasks: 10, synchronous: ctx.options.synchronous });
    const db = openWriterConnection(path, { synchronous: ctx.options.synchronous, busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
    if (!withIndexes) {
      // Every index the schema creates; the constraints' own indexes (PRIMARY KEY, UNIQUE) stay.
      const names = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL").pluck().all() as string[];
      for (const name of names) db.exec(`DROP INDEX ${name}`);
    }
    const executor = new WriteExecutor(new PreparedCatalogue(db, operations, ['write']));
    const batch = 64;
    const started = performance.now();
    for (let i = 0; i < inserts; i += batch) {
      const calls: OperationCall[] = [];
      for (let j = i; j < Math.min(inserts, i + batch); j++) {
        calls.push(['memory.add', [`user:u${j % 500}:notes`, `k${j}`, JSON.stringify({ text: `note ${j}`, tags: ['a', 'b'] }), 'episodic', '{}', 'bench', undefined]]);
      }
      executor.execute(calls);
    }
    const rate = inserts / ((performance.now() - started) / 1000);
    db.close();
    return rate;
  };
  const withSet: number[] = [];
  const without: number[] = [];
  for (let t = 0; t < ctx.options.trials; t++) {
    withSet.push(run(true, t));
    without.push(run(false, t));
  }
  const a = median(withSet);
  const b = median(without);
  const overhead = b / a - 1;
  ctx.options.progress?.(`  memory.add with indexes ${int(a)}/s, without ${int(b)}/s`);
  const rows = [
    ['index set', 'memory.add/s (with audit row)'],
    ['all indexes', int(a)],
    ['no secondary indexes', int(b)],
  ];
  return {
    json: { withIndexes: a, withoutIndexes: b, overhead },
    text: `memory insert cost of the index set (${int(inserts)} adds, group-committed 64 at a time)\n${table(rows)}\nwrite overhead of the index set: ${(overhead * 100).toFixed(0)}% (seed budget 20-40%)`,
  };
}

export async function runSweeps(names: readonly SweepName[], options: SweepOptions & { sessions?: number }): Promise<{ text: string; json: unknown }> {
  mkdirSync(options.out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'abathur-sweep-'));
  try {
    const seed = seedDatabase(join(dir, 'template.db'), { sessions: options.seedSessions, memoryPerScope: 10, tasks: 50_000 });
    const ctx: Context = { options, dir, seed, runId: 1 };
    const texts: string[] = [];
    const json: Record<string, unknown> = { machine: machineInfo(), options: { ...options, progress: undefined } };
    for (const name of names) {
      options.progress?.(`sweep ${name}...`);
      const result =
        name === 'sessions'
          ? await sessionsSweep(ctx)
          : name === 'readers'
            ? await readersSweep(ctx)
            : name === 'commit'
              ? await commitSweep(ctx)
              : name === 'indexes'
                ? indexesSweep(ctx)
                : await growthSweep({ ...options, dir, seed, scale: options.growthScale ?? 1 });
      texts.push(result.text);
      json[name] = result.json;
    }
    writeFileSync(join(options.out, 'sweeps.json'), JSON.stringify(json, null, 2));
    return { text: texts.join('\n\n'), json };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
