import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore, type Store } from '../src/index.js';
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
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface WakeupResult {
  rows: WakeupRow[];
  idle: { watchers: number; claims: number; seconds: number; cpuFractionOfCore: number };
}

function summarise(system: string, ms: number[]): WakeupRow {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return { system, samples: ms.length, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1) ?? Number.NaN) };
}

/** Runs the producer in a child process; resolves when it is done. */
function produce(system: string, target: string, count: number, gapMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [producer, system, target, String(count), String(gapMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`producer ${system} exited ${code}: ${err}`))));
  });
}

/** Wake-ups of one parked claim, its tasks made here (the same store) or by another process. */
async function claimWakeups(store: Store, count: number, gapMs: number, from: { system: string; target: string } | undefined): Promise<number[]> {
  const latencies: number[] = [];
  const producing = from === undefined ? undefined : produce(from.system, from.target, count, gapMs);
  const local = async (): Promise<void> => {
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      await store.tasks.create({ prompt: 'bench', inputData: { sent: now() } });
    }
  };
  const making = from === undefined ? local() : producing!;
  while (latencies.length < count) {
    const task = await store.tasks.claimNext<{ sent: number }>({ waitMs: 60_000, leaseMs: 60_000 });
    if (task === undefined) throw new Error('no task within 60 s');
    latencies.push(now() - task.inputData.sent);
    await store.tasks.complete(task.id, null, { claimToken: task.claimToken! });
  }
  await making;
  return latencies;
}

async function graphileWakeups(url: string, count: number, gapMs: number): Promise<number[]> {
  const { run, Logger } = await import('graphile-worker');
  const latencies: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const runner = await run({
    connectionString: url,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: new Logger(() => () => {}),
    taskList: {
      bench: async (payload) => {
        latencies.push(now() - (payload as { sent: number }).sent);
        if (latencies.length >= count) done();
      },
    },
  });
  await Promise.all([produce('graphile-worker', url, count, gapMs), all]);
  await runner.stop();
  return latencies;
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
    rows.push(summarise('abathur sqlite, same process', await claimWakeups(sqlite, count, gapMs, undefined)));
    say('sqlite, another process');
    rows.push(summarise('abathur sqlite, another process', await claimWakeups(sqlite, count, gapMs, { system: 'abathur', target: path })));
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
    rows.push(summarise('abathur postgres, same process', await claimWakeups(store, count, gapMs, undefined)));
    say('postgres, another process');
    rows.push(summarise('abathur postgres, another process', await claimWakeups(store, count, gapMs, { system: 'abathur', target: url })));
    await store.close();
    say('graphile-worker, another process');
    rows.push(summarise('graphile-worker 0.17.3, another process', await graphileWakeups(server.urlFor('abathur_wakeups_gw'), count, gapMs)));
    return { rows, idle: { watchers: options.watchers, claims: 64, seconds: options.idleSeconds, cpuFractionOfCore: Math.round(cpu * 10_000) / 10_000 } };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatWakeups(result: WakeupResult): string {
  const lines = ['system                                      samples   p50 ms   p99 ms   max ms'];
  for (const r of result.rows) {
    lines.push(`${r.system.padEnd(44)}${String(r.samples).padStart(7)}${r.p50Ms.toFixed(3).padStart(9)}${r.p99Ms.toFixed(3).padStart(9)}${r.maxMs.toFixed(3).padStart(9)}`);
  }
  const gw = result.rows.find((r) => r.system.startsWith('graphile'));
  const pgOther = result.rows.find((r) => r.system === 'abathur postgres, another process');
  if (gw !== undefined && pgOther !== undefined) lines.push(`abathur postgres / graphile-worker, p99: ${(pgOther.p99Ms / gw.p99Ms).toFixed(2)}x (lower is faster)`);
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
