import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore, StoreError, type Store } from '../src/index.js';
import type { ProducerReport } from './claim-producer.js';
import { processTreeCpuUs, threadCpuNs, treeCpuSince } from './cpu.js';
import { graphilePool } from './graphile-pool.js';
import { benchFile } from './paths.js';
import { startPostgres } from './postgres-server.js';

// Claim throughput (issue 23): `agents` loops in this process, each `claimNext({ waitMs })`
// then `complete(id, null, { claimToken })`, against a producer in another process creating
// tasks at `rate` per second for `durationMs` (bench/claim-producer.ts), on SQLite and on
// PostgreSQL, beside graphile-worker 0.17.3 (concurrency = agents, jobs added at the same
// rate with its WorkerUtils) on the same embedded server in the same run. Every task must be
// claimed exactly once: claims are counted per task id, and a duplicate, a missing task or a
// claim of a task that was never made fails the run.

const now = (): number => performance.timeOrigin + performance.now();
const producer = benchFile('claim-producer');

export const CLAIM_SYSTEMS = ['abathur sqlite', 'abathur postgres', 'graphile-worker 0.17.3'] as const;
export type ClaimSystem = (typeof CLAIM_SYSTEMS)[number];

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ClaimThroughputRow {
  system: ClaimSystem;
  /** Tasks whose create resolved. */
  produced: number;
  /** produced over the producer's time from its first create to its last one settling. */
  producedPerSecond: number;
  /** Creates due in the window that the producer never issued (it fell behind). */
  notIssued: number;
  createErrors: number;
  claims: number;
  duplicates: number;
  missing: number;
  /** Claims of ids the producer never reported. */
  unknown: number;
  /** Tasks created but not yet claimed when the producer's window ended, and at the worst moment. */
  backlogAtWindowEnd: number;
  backlogPeak: number;
  /** From the window's start to the last claim returning, in seconds. */
  drainSeconds: number;
  /** From the create being called, and from its commit acknowledged, to the claim returning. */
  fromCreate: Percentiles;
  fromAck: Percentiles;
  /** CPU per task of this process's main thread (the agents' caller), of the whole process, and of the producer. */
  callerCpuUsPerTask: number | null;
  processCpuUsPerTask: number;
  producerCpuUsPerTask: number;
  /** The PostgreSQL server's (postmaster and backends) per task; null on SQLite. */
  serverCpuUsPerTask: number | null;
  /**
   * abathur's claim statements run per task (`stats().latency['tasks.claimNext'].count`: a
   * waiting claim looks once, then again after each wake); null for graphile-worker.
   */
  claimLooksPerTask: number | null;
}

export interface ClaimThroughputResult {
  config: { agents: number; rate: number; durationMs: number; waitMs: number; maxInFlight: number };
  loadAverage: number[];
  rows: ClaimThroughputRow[];
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

function percentiles(ms: number[]): Percentiles {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1) ?? Number.NaN) };
}

/** Runs the producer; resolves with its report once it has written it and exited. */
function produce(system: string, target: string, rate: number, durationMs: number, maxInFlight: number, dir: string): Promise<ProducerReport> {
  const out = join(dir, `producer-${Date.now()}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [producer, system, target, String(rate), String(durationMs), out, String(maxInFlight)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.resume();
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`claim producer ${system} exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(readFileSync(out, 'utf8')) as ProducerReport);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

/** The consumer's side of a run: starts its agents, returns how to stop them and the claims they made. */
interface Consumer {
  /** [task id, claim returned] per claim. */
  claims: [string, number][];
  failures: string[];
  /** Claim statements run so far (abathur). */
  looks?: () => number;
  stop(): Promise<void>;
}

function abathurAgents(store: Store, agents: number, waitMs: number): Consumer {
  const claims: [string, number][] = [];
  const failures: string[] = [];
  const controller = new AbortController();
  setMaxListeners(agents + 10, controller.signal);
  const loop = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      let task;
      try {
        task = await store.tasks.claimNext({ waitMs, leaseMs: 600_000, signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) return;
        failures.push(`claimNext: ${error instanceof Error ? error.message : String(error)}`);
        if (error instanceof StoreError && error.code === 'CLOSED') return;
        continue;
      }
      if (task === undefined) continue;
      claims.push([task.id, now()]);
      try {
        await store.tasks.complete(task.id, null, { claimToken: task.claimToken! });
      } catch (error) {
        failures.push(`complete: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const loops = Array.from({ length: agents }, loop);
  return {
    claims,
    failures,
    looks: () => store.stats().latency['tasks.claimNext']?.count ?? 0,
    stop: async () => {
      controller.abort();
      await Promise.all(loops);
    },
  };
}

async function graphileAgents(url: string, agents: number): Promise<Consumer> {
  const { run, Logger } = await import('graphile-worker');
  const claims: [string, number][] = [];
  const failures: string[] = [];
  const { pool, close } = graphilePool(url, (error) => failures.push(`pool: ${error.message}`));
  const runner = await run({
    pgPool: pool,
    concurrency: agents,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: new Logger(() => (level, message) => {
      if (String(level) === 'error') failures.push(message);
    }),
    taskList: {
      bench: async (_payload, helpers) => {
        claims.push([String(helpers.job.id), now()]);
      },
    },
  });
  return {
    claims,
    failures,
    stop: async () => {
      await runner.stop();
      await close();
    },
  };
}

/** Counts claims per produced id and measures latency and backlog; throws when a task was not claimed exactly once. */
export function account(
  system: ClaimSystem,
  report: ProducerReport,
  claims: readonly [string, number][],
  cpu: { callerNs: number | undefined; processUs: number; serverUs?: number; looks?: number },
): ClaimThroughputRow {
  const made = new Map<string, [number, number]>();
  for (const [id, sent, ack] of report.tasks) made.set(id, [sent, ack]);
  const counts = new Map<string, number>();
  let unknown = 0;
  const fromCreate: number[] = [];
  const fromAck: number[] = [];
  for (const [id, at] of claims) {
    counts.set(id, (counts.get(id) ?? 0) + 1);
    const times = made.get(id);
    if (times === undefined) {
      unknown++;
      continue;
    }
    if (counts.get(id) === 1) {
      fromCreate.push(at - times[0]);
      fromAck.push(at - times[1]);
    }
  }
  let duplicates = 0;
  for (const n of counts.values()) if (n > 1) duplicates += n - 1;
  let missing = 0;
  for (const id of made.keys()) if (!counts.has(id)) missing++;

  // Backlog over time: tasks acknowledged minus tasks claimed, at each moment either happens.
  const marks: [number, number][] = [...report.tasks.map(([, , ack]): [number, number] => [ack, 1]), ...claims.map(([, at]): [number, number] => [at, -1])];
  marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let backlog = 0;
  let backlogPeak = 0;
  let backlogAtWindowEnd = 0;
  for (const [at, delta] of marks) {
    backlog += delta;
    if (backlog > backlogPeak) backlogPeak = backlog;
    if (at <= report.windowEndAt) backlogAtWindowEnd = backlog;
  }
  const lastClaim = claims.reduce((max, [, at]) => Math.max(max, at), report.startedAt);
  const produced = report.tasks.length;
  const per = (total: number): number => (produced === 0 ? 0 : round(total / produced, 1));
  return {
    system,
    produced,
    producedPerSecond: Math.round(produced / ((report.settledAt - report.startedAt) / 1000)),
    notIssued: report.notIssued,
    createErrors: report.errors,
    claims: claims.length,
    duplicates,
    missing,
    unknown,
    backlogAtWindowEnd,
    backlogPeak,
    drainSeconds: round((lastClaim - report.startedAt) / 1000, 2),
    fromCreate: percentiles(fromCreate),
    fromAck: percentiles(fromAck),
    callerCpuUsPerTask: cpu.callerNs === undefined ? null : per(cpu.callerNs / 1000),
    processCpuUsPerTask: per(cpu.processUs),
    producerCpuUsPerTask: per(report.cpuUs),
    serverCpuUsPerTask: cpu.serverUs === undefined ? null : per(cpu.serverUs),
    claimLooksPerTask: cpu.looks === undefined || produced === 0 ? null : round(cpu.looks / produced, 2),
  };
}

/** Thrown when a run's accounting fails: a task claimed twice, never, or one that was never made. */
export class ExactlyOnceError extends Error {
  constructor(readonly row: ClaimThroughputRow, readonly details: string[]) {
    super(
      `${row.system}: not exactly once: ${row.duplicates} duplicate claims, ${row.missing} tasks never claimed, ${row.unknown} claims of unknown ids` +
        `, ${row.createErrors} failed creates (of ${row.produced + row.createErrors})${details.length > 0 ? `; ${details.slice(0, 5).join('; ')}` : ''}`,
    );
  }
}

async function measure(
  system: ClaimSystem,
  start: () => Promise<Consumer>,
  target: string,
  options: { rate: number; durationMs: number; maxInFlight: number; drainMs: number; dir: string; serverPid?: number },
): Promise<ClaimThroughputRow> {
  const consumer = await start();
  // Let the agents park before the producer starts.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const looksBefore = consumer.looks?.();
  const callerBefore = threadCpuNs();
  const processBefore = process.cpuUsage();
  const serverBefore = options.serverPid === undefined ? undefined : processTreeCpuUs(options.serverPid);
  let report: ProducerReport;
  try {
    report = await produce(system === 'graphile-worker 0.17.3' ? 'graphile-worker' : 'abathur', target, options.rate, options.durationMs, options.maxInFlight, options.dir);
  } catch (error) {
    await consumer.stop();
    throw error;
  }
  const deadline = performance.now() + options.drainMs;
  while (consumer.claims.length < report.tasks.length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const callerAfter = threadCpuNs();
  const processUsed = process.cpuUsage(processBefore);
  const serverUs = serverBefore === undefined ? undefined : treeCpuSince(serverBefore, processTreeCpuUs(options.serverPid!));
  // A moment more, so that a late duplicate claim would still be counted.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await consumer.stop();
  const row = account(system, report, consumer.claims, {
    callerNs: callerBefore === undefined || callerAfter === undefined ? undefined : callerAfter - callerBefore,
    processUs: processUsed.user + processUsed.system,
    ...(serverUs === undefined ? {} : { serverUs }),
    ...(looksBefore === undefined ? {} : { looks: consumer.looks!() - looksBefore }),
  });
  if (row.duplicates > 0 || row.missing > 0 || row.unknown > 0 || row.createErrors > 0 || consumer.failures.length > 0) {
    throw new ExactlyOnceError(row, [...report.errorSamples, ...consumer.failures]);
  }
  return row;
}

export async function runClaimThroughputBench(options: {
  agents?: number;
  rate?: number;
  durationMs: number;
  waitMs?: number;
  maxInFlight?: number;
  /** How long to wait, after the producer is done, for the agents to claim what is left (default 30 s). */
  drainMs?: number;
  systems?: readonly ClaimSystem[];
  progress?: (line: string) => void;
}): Promise<ClaimThroughputResult> {
  const agents = options.agents ?? 64;
  const rate = options.rate ?? 2000;
  const waitMs = options.waitMs ?? 1000;
  const maxInFlight = options.maxInFlight ?? 256;
  const systems = options.systems ?? CLAIM_SYSTEMS;
  const say = options.progress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'abathur-claims-'));
  const common = { rate, durationMs: options.durationMs, maxInFlight, drainMs: options.drainMs ?? 30_000, dir };
  const rows: ClaimThroughputRow[] = [];
  const usesPostgres = systems.some((s) => s !== 'abathur sqlite');
  const server = usesPostgres ? await startPostgres({ database: 'abathur_claims', durable: true }) : undefined;
  try {
    for (const system of systems) {
      say(`${system}: ${agents} agents, ${rate} tasks/s for ${options.durationMs / 1000} s`);
      if (system === 'abathur sqlite') {
        const path = join(dir, 'store.db');
        const store = await openStore({ path, readers: 2 });
        try {
          rows.push(await measure(system, async () => abathurAgents(store, agents, waitMs), path, common));
        } finally {
          await store.close();
        }
      } else if (system === 'abathur postgres') {
        const store = await openStore({ url: server!.url });
        try {
          rows.push(await measure(system, async () => abathurAgents(store, agents, waitMs), server!.url, { ...common, serverPid: server!.pid }));
        } finally {
          await store.close();
        }
      } else {
        const admin = new pg.Client({ connectionString: server!.url });
        await admin.connect();
        await admin.query('CREATE DATABASE abathur_claims_gw');
        await admin.end();
        const url = server!.urlFor('abathur_claims_gw');
        rows.push(await measure(system, () => graphileAgents(url, agents), url, { ...common, serverPid: server!.pid }));
      }
    }
    return { config: { agents, rate, durationMs: options.durationMs, waitMs, maxInFlight }, loadAverage: loadavg().map((x) => round(x, 2)), rows };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatClaimThroughput(result: ClaimThroughputResult): string {
  const { config } = result;
  const ms = (p: Percentiles): string => `${p.p50Ms.toFixed(1)} / ${p.p99Ms.toFixed(1)} / ${p.maxMs.toFixed(1)}`;
  const lines = [
    `${config.agents} agents (claimNext waitMs ${config.waitMs}, then complete with the claimToken) against a producer in another process at ${config.rate} tasks/s for ${config.durationMs / 1000} s (at most ${config.maxInFlight} creates in flight); load average ${result.loadAverage.join(' ')}`,
    '',
  ];
  const header = ['system', 'produced', 'produced/s', 'not issued', 'claims', 'dup', 'missing', 'backlog end / peak', 'drain s', 'create→claim p50/p99/max ms', 'ack→claim p50/p99/max ms', 'CPU µs/task caller / process / producer / server', 'claim looks/task'];
  const rows = result.rows.map((r) => [
    r.system,
    String(r.produced),
    String(r.producedPerSecond),
    String(r.notIssued),
    String(r.claims),
    String(r.duplicates),
    String(r.missing),
    `${r.backlogAtWindowEnd} / ${r.backlogPeak}`,
    r.drainSeconds.toFixed(2),
    ms(r.fromCreate),
    ms(r.fromAck),
    `${r.callerCpuUsPerTask ?? '-'} / ${r.processCpuUsPerTask} / ${r.producerCpuUsPerTask} / ${r.serverCpuUsPerTask ?? '-'}`,
    r.claimLooksPerTask === null ? '-' : r.claimLooksPerTask.toFixed(2),
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  for (const row of all) lines.push(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  const gw = result.rows.find((r) => r.system === 'graphile-worker 0.17.3');
  const pgRow = result.rows.find((r) => r.system === 'abathur postgres');
  if (gw !== undefined && pgRow !== undefined) {
    lines.push('', `abathur postgres / graphile-worker, create→claim p99: ${(pgRow.fromCreate.p99Ms / gw.fromCreate.p99Ms).toFixed(2)}x (lower is faster)`);
  }
  lines.push('every task claimed exactly once (claims counted per task id)');
  return lines.join('\n');
}

// node dist/bench/claim-throughput.js [seconds] [rate] [agents]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [seconds = '5', rate = '2000', agents = '64'] = process.argv.slice(2);
  const result = await runClaimThroughputBench({ durationMs: Number(seconds) * 1000, rate: Number(rate), agents: Number(agents), progress: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatClaimThroughput(result)}\n${JSON.stringify(result)}\n`);
}
