import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore, type Store } from '../src/index.js';
import { graphilePool } from './graphile-pool.js';
import { benchFile } from './paths.js';
import { startPostgres } from './postgres-server.js';

// Commit to wake-up (issue 23): how long from a task's create committing to a parked
// `claimNext({ waitMs })` returning it, in this process and from another one, on SQLite and
// on PostgreSQL, beside graphile-worker (add_job to the job's function starting, in another
// process) on the same embedded server in the same run. And what idle waiters cost: 1,000
// parked watchers and 64 parked claims, CPU per wall second.

const now = (): number => performance.timeOrigin + performance.now();
const producer = benchFile('wakeup-producer');

export interface WakeupRow {
  system: string;
  samples: number;
  /** From the create being called (its own commit included) to the claim returning. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From the create's commit acknowledged (its promise resolving in the producer) to the claim returning. */
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
}

/** One wake-up: the task, when its create was called, when the claim returned it. */
interface Sample {
  id: string;
  sent: number;
  claimed: number;
}

export interface WakeupResult {
  rows: WakeupRow[];
  idle: { watchers: number; claims: number; seconds: number; cpuFractionOfCore: number };
}

function percentiles(ms: number[]): [number, number, number] {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return [round(at(0.5)), round(at(0.99)), round(sorted.at(-1) ?? Number.NaN)];
}

function summarise(system: string, samples: readonly Sample[], acks: ReadonlyMap<string, number>): WakeupRow {
  const [p50Ms, p99Ms, maxMs] = percentiles(samples.map((s) => s.claimed - s.sent));
  const fromAck = samples.map((s) => {
    const ack = acks.get(s.id);
    if (ack === undefined) throw new Error(`${system}: no acknowledgement reported for ${s.id}`);
    return s.claimed - ack;
  });
  const [ackP50Ms, ackP99Ms, ackMaxMs] = percentiles(fromAck);
  return { system, samples: samples.length, p50Ms, p99Ms, maxMs, ackP50Ms, ackP99Ms, ackMaxMs };
}

/** Runs the producer in a child process, noting in `acks` when each create resolved; resolves when it is done. */
function produce(system: string, target: string, count: number, gapMs: number, acks: Map<string, number>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [producer, system, target, String(count), String(gapMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const [word, id, at] = line.split(' ');
        if (word === 'ack') acks.set(id!, Number(at));
      }
    });
    // 'close', not 'exit': every ack line has been read by then.
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`producer ${system} exited ${code}: ${err}`))));
  });
}

/** Wake-ups of one parked claim, its tasks made here (the same store) or by another process. */
async function claimWakeups(system: string, store: Store, count: number, gapMs: number, from: { system: string; target: string } | undefined): Promise<WakeupRow> {
  const samples: Sample[] = [];
  const acks = new Map<string, number>();
  const producing = from === undefined ? undefined : produce(from.system, from.target, count, gapMs, acks);
  const local = async (): Promise<void> => {
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const task = await store.tasks.create({ prompt: 'bench', inputData: { sent: now() } });
      acks.set(task.id, now());
    }
  };
  const making = from === undefined ? local() : producing!;
  while (samples.length < count) {
    const task = await store.tasks.claimNext<{ sent: number }>({ waitMs: 60_000, leaseMs: 60_000 });
    if (task === undefined) throw new Error('no task within 60 s');
    samples.push({ id: task.id, sent: task.inputData.sent, claimed: now() });
    await store.tasks.complete(task.id, null, { claimToken: task.claimToken! });
  }
  await making;
  return summarise(system, samples, acks);
}

async function graphileWakeups(system: string, url: string, count: number, gapMs: number): Promise<WakeupRow> {
  const { run, Logger } = await import('graphile-worker');
  const samples: Sample[] = [];
  const acks = new Map<string, number>();
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const { pool, close } = graphilePool(url, () => {});
  const runner = await run({
    pgPool: pool,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: new Logger(() => () => {}),
    taskList: {
      bench: async (payload, helpers) => {
        samples.push({ id: String(helpers.job.id), sent: (payload as { sent: number }).sent, claimed: now() });
        if (samples.length >= count) done();
      },
    },
  });
  await Promise.all([produce('graphile-worker', url, count, gapMs, acks), all]);
  await runner.stop();
  await close();
  return summarise(system, samples, acks);
}

async function idleCost(store: Store, watchers: number, claims: number, seconds: number): Promise<number> {
  const controller = new AbortController();
  setMaxListeners(watchers + claims + 10, controller.signal);
  const ids: string[] = [];
  for (let i = 0; i < watchers; i++) ids.push((await store.sessions.create({ appName: 'bench', userId: `u${i}` })).id);
  const pending: Promise<unknown>[] = [];
  for (const id of ids) pending.push(store.sessions.watch(id, { signal: controller.signal }).next().catch(() => {}));
  for (let i = 0; i < claims; i++) pending.push(store.tasks.claimNext({ agentType: 'none', waitMs: 600_000, signal: controller.signal }).catch(() => {}));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cpu = process.cpuUsage();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - start;
  controller.abort();
  await Promise.all(pending);
  return (used.user + used.system) / 1000 / wall;
}

export async function runWakeupBench(options: { count: number; gapMs: number; idleSeconds: number; watchers: number; progress?: (line: string) => void }): Promise<WakeupResult> {
  const { count, gapMs } = options;
  const say = options.progress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'abathur-wakeups-'));
  const rows: WakeupRow[] = [];
  const server = await startPostgres({ database: 'abathur_wakeups', durable: true });
  try {
    const path = join(dir, 'store.db');
    const sqlite = await openStore({ path, readers: 2 });
    say('sqlite, same process');
    rows.push(await claimWakeups('abathur sqlite, same process', sqlite, count, gapMs, undefined));
    say('sqlite, another process');
    rows.push(await claimWakeups('abathur sqlite, another process', sqlite, count, gapMs, { system: 'abathur', target: path }));
    say('idle waiters');
    const cpu = await idleCost(sqlite, options.watchers, 64, options.idleSeconds);
    await sqlite.close();

    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE abathur_wakeups_gw');
    await admin.end();
    const url = server.url;
    const store = await openStore({ url });
    say('postgres, same process');
    rows.push(await claimWakeups('abathur postgres, same process', store, count, gapMs, undefined));
    say('postgres, another process');
    rows.push(await claimWakeups('abathur postgres, another process', store, count, gapMs, { system: 'abathur', target: url }));
    await store.close();
    say('graphile-worker, another process');
    rows.push(await graphileWakeups('graphile-worker 0.17.3, another process', server.urlFor('abathur_wakeups_gw'), count, gapMs));
    return { rows, idle: { watchers: options.watchers, claims: 64, seconds: options.idleSeconds, cpuFractionOfCore: Math.round(cpu * 10_000) / 10_000 } };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatWakeups(result: WakeupResult): string {
  const lines = [
    '                                                    from create called to claim   from create acknowledged to claim',
    'system                                      samples   p50 ms   p99 ms   max ms     p50 ms   p99 ms   max ms',
  ];
  const f = (x: number): string => x.toFixed(3).padStart(9);
  for (const r of result.rows) {
    lines.push(`${r.system.padEnd(44)}${String(r.samples).padStart(7)}${f(r.p50Ms)}${f(r.p99Ms)}${f(r.maxMs)}  ${f(r.ackP50Ms)}${f(r.ackP99Ms)}${f(r.ackMaxMs)}`);
  }
  const gw = result.rows.find((r) => r.system.startsWith('graphile'));
  const pgOther = result.rows.find((r) => r.system === 'abathur postgres, another process');
  if (gw !== undefined && pgOther !== undefined) {
    lines.push(`abathur postgres / graphile-worker, p99: ${(pgOther.p99Ms / gw.p99Ms).toFixed(2)}x from create called, ${(pgOther.ackP99Ms / gw.ackP99Ms).toFixed(2)}x from create acknowledged (lower is faster)`);
  }
  const { idle } = result;
  lines.push(`idle: ${idle.watchers} watchers + ${idle.claims} waiting claims on SQLite: ${(idle.cpuFractionOfCore * 100).toFixed(2)}% of a core over ${idle.seconds} s`);
  return lines.join('\n');
}

// node dist/bench/wakeups.js [count] [gapMs] [idleSeconds] [watchers]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [count = '200', gap = '20', idle = '5', watchers = '1000'] = process.argv.slice(2);
  const result = await runWakeupBench({ count: Number(count), gapMs: Number(gap), idleSeconds: Number(idle), watchers: Number(watchers), progress: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatWakeups(result)}\n${JSON.stringify(result)}\n`);
}
