// bench --session-reads: callers reading whole recent histories, `sessions.get(id, {
// lastEvents: 200 })` in a loop, on sessions seeded to 200 events. For each system: reads/s,
// the read's latency, the caller's event-loop delay and the caller's thread CPU per read.
// Systems: this build with its decode cache (`after`, decodeCacheBytes default), this build
// without it (`cache-off`, decodeCacheBytes 0), and another build (`before`, --before DIR).
// Each trial runs in its own process on a fresh file; systems are interleaved.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMeter } from './cpu.js';
import { benchFile } from './paths.js';
import { int, machineInfo, ratio, table, us, type MachineInfo, runChildTrial } from './report.js';

export type ReadsSystem = 'after' | 'cache-off' | 'before';
export const READS_SYSTEMS: readonly ReadsSystem[] = ['after', 'cache-off', 'before'];

export interface ReadsTrialConfig {
  system: ReadsSystem;
  /** For `before`: the root of the other build. */
  beforeApp?: string;
  path: string;
  sessions: number;
  /** Events each session holds, and each read asks for (lastEvents). */
  events: number;
  durationMs: number;
  readers: number;
}

export interface ReadsTrialResult {
  system: ReadsSystem;
  reads: number;
  readsPerSecond: number;
  /** Microseconds, one read as the caller sees it. */
  read: { p50: number; p99: number; max: number };
  eventLoopDelay: { p50: number; p99: number; max: number };
  /** Microseconds of CPU per read: the caller's (main) thread, and the whole process. */
  callerCpuUs: number | null;
  processCpuUs: number;
  /** The 1-minute load average when the timed part started. */
  load: number;
  errors: number;
  errorSamples: string[];
}

// About what an agent's event carries: a role, a paragraph of text, a little metadata.
const TEXT = 'The forecast for Paris is sunny with a light breeze from the west, 21 degrees in the afternoon. '.repeat(2);

interface ReadStore {
  sessions: {
    create(input: { id: string; appName: string; userId: string }): Promise<unknown>;
    get(id: string, options: { lastEvents: number }): Promise<{ events: unknown[] } | undefined>;
  };
  close(): Promise<void>;
}

/** Gives each session `events` events straight in its file (appending 12,800 through the store would dominate the trial). */
async function seedFile(path: string, sessions: readonly string[], events: number): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  try {
    const insert = db.prepare(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @events) ' +
        'INSERT INTO session_events (session_id, seq, event) SELECT @id, i, ' +
        "json_object('role', CASE i % 2 WHEN 1 THEN 'user' ELSE 'model' END, 'turn', i, " +
        "'content', json_object('parts', json_array(json_object('text', @text))), 'meta', json_object('tokens', 57, 'model', 'bench-1')) FROM n",
    );
    const count = db.prepare('UPDATE sessions SET event_count = @events WHERE id = @id');
    const seed = db.transaction((id: string) => {
      insert.run({ events, id, text: TEXT });
      count.run({ events, id });
    });
    for (const id of sessions) seed.immediate(id);
  } finally {
    db.close();
  }
}

async function open(config: ReadsTrialConfig): Promise<ReadStore> {
  const root = config.system === 'before' ? resolve(config.beforeApp!) : resolve(import.meta.dirname, '..', '..');
  const { openStore } = (await import(pathToFileURL(join(root, 'dist', 'src', 'index.js')).href)) as typeof import('../src/index.js');
  const options = config.system === 'cache-off' ? { decodeCacheBytes: 0 } : {};
  return await openStore({ path: config.path, readers: config.readers, ...options });
}

export async function runReadsTrial(config: ReadsTrialConfig): Promise<ReadsTrialResult> {
  const { build } = await import('hdr-histogram-js');
  const { EventLoopDelay } = await import('../src/cli/event-loop-delay.js');
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.path}${suffix}`, { force: true });
  const store = await open(config);
  const ids = Array.from({ length: config.sessions }, (_, i) => `s${i}`);
  for (const [i, id] of ids.entries()) await store.sessions.create({ id, appName: 'bench', userId: `user${i % 8}` });
  await seedFile(config.path, ids, config.events);
  // One untimed read per session: the callers have read their sessions before.
  for (const id of ids) await store.sessions.get(id, { lastEvents: config.events });

  const histogram = build();
  const eld = new EventLoopDelay();
  let reads = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const load = loadavg()[0]!;
  eld.start();
  const cpu = cpuMeter();
  const started = performance.now();
  const deadline = started + config.durationMs;
  await Promise.all(
    ids.map(async (id) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const session = await store.sessions.get(id, { lastEvents: config.events });
          if (session?.events.length !== config.events) throw new Error(`read ${session?.events.length} events of ${id}, not ${config.events}`);
          reads++;
          histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch (error) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push((error as Error).message);
        }
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = cpu(reads);
  eld.stop();
  await store.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.path}${suffix}`, { force: true });
  const pct = (p: number): number => Math.min(histogram.getValueAtPercentile(p), histogram.maxValue);
  return {
    system: config.system,
    reads,
    readsPerSecond: Math.round(reads / (elapsed / 1000)),
    read: { p50: pct(50), p99: pct(99), max: histogram.maxValue },
    eventLoopDelay: eld.summary(),
    callerCpuUs: used.callerUs,
    processCpuUs: used.processUs,
    load: Math.round(load * 10) / 10,
    errors,
    errorSamples,
  };
}

export interface ReadsBenchOptions {
  systems: readonly ReadsSystem[];
  beforeApp?: string;
  sessions: number;
  events: number;
  durationMs: number;
  trials: number;
  readers: number;
  progress?: (line: string) => void;
}

export interface ReadsBenchResult {
  machine: MachineInfo;
  config: Omit<ReadsBenchOptions, 'progress'>;
  trials: ReadsTrialResult[];
  /** Per system: the median trial by reads/s. */
  summary: Partial<Record<ReadsSystem, ReadsTrialResult>>;
}

const runChild = (config: ReadsTrialConfig): Promise<ReadsTrialResult> => runChildTrial(benchFile('session-reads'), config);

export async function runReadsBench(options: ReadsBenchOptions): Promise<ReadsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-session-reads-'));
  const { progress, ...config } = options;
  const trials: ReadsTrialResult[] = [];
  try {
    for (let t = 0; t < options.trials; t++) {
      for (const system of options.systems) {
        const result = await runChild({
          system,
          ...(options.beforeApp === undefined ? {} : { beforeApp: options.beforeApp }),
          path: join(dir, `${system}.db`),
          sessions: options.sessions,
          events: options.events,
          durationMs: options.durationMs,
          readers: options.readers,
        });
        trials.push(result);
        progress?.(
          `  trial ${t + 1}/${options.trials} ${system}: ${int(result.readsPerSecond)} reads/s, event-loop p99 ${result.eventLoopDelay.p99} ms ` +
            `max ${result.eventLoopDelay.max} ms, caller CPU ${result.callerCpuUs ?? '-'} us/read, load ${result.load}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary: ReadsBenchResult['summary'] = {};
  for (const system of options.systems) {
    const mine = trials.filter((r) => r.system === system).sort((a, b) => a.readsPerSecond - b.readsPerSecond);
    if (mine.length > 0) summary[system] = mine[(mine.length - 1) >> 1]!;
  }
  return { machine: machineInfo(), config, trials, summary };
}

export function formatReadsBench(result: ReadsBenchResult): string {
  const { machine, config, summary } = result;
  const rows = [['system', 'reads/s', 'vs before', 'read p50', 'read p99', 'loop p99', 'loop max', 'caller CPU/read', 'process CPU/read', 'load', 'errors']];
  const before = summary.before;
  for (const [system, m] of Object.entries(summary)) {
    rows.push([
      system,
      int(m.readsPerSecond),
      before === undefined ? '-' : ratio(m.readsPerSecond, before.readsPerSecond),
      us(m.read.p50),
      us(m.read.p99),
      `${m.eventLoopDelay.p99} ms`,
      `${m.eventLoopDelay.max} ms`,
      m.callerCpuUs === null ? '-' : `${m.callerCpuUs} us`,
      `${m.processCpuUs} us`,
      String(m.load),
      String(m.errors),
    ]);
  }
  const errors = result.trials.flatMap((r) => r.errorSamples.map((e) => `  ${r.system}: ${e}`));
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}`,
    `workload: ${config.sessions} callers, each reading its own session of ${config.events} events (~300 bytes each) with sessions.get(id, { lastEvents: ${config.events} }) in a loop;`,
    `  ${config.durationMs / 1000} s per trial, ${config.trials} trials (median by reads/s), ${config.readers} readers; after: decodeCacheBytes default, cache-off: 0`,
    "  loop: the caller's event-loop delay; CPU/read from the threads' own clocks (caller: the main thread); load: 1-minute load average at the trial's start",
    '',
    table(rows),
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
  ].join('\n');
}

// Run as a child process: `node session-reads.js '<config json>'`.
if (process.argv[2] !== undefined && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const result = await runReadsTrial(JSON.parse(process.argv[2]) as ReadsTrialConfig);
  process.stdout.write(JSON.stringify(result));
}
