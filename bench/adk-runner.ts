// bench --adk-runner: what an ADK Runner does to its session service each turn (getSession,
// then appendEvent of the user's event and the model's), in 64 sessions at once, with the
// sessions seeded to 10, 100, 1,000 and 10,000 events first. For each length and system:
// turns/s, the caller's event-loop delay, and the caller's thread CPU per turn (the figure
// that must stay flat as sessions grow). Systems: AbathurSessionService of this build
// (`abathur`), of another build (`before`, --before DIR), and ADK's InMemorySessionService
// (`adk-memory`), the peer. Each trial runs in its own process; systems are interleaved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMeter } from './cpu.js';
import { benchFile } from './paths.js';
import { int, machineInfo, ratio, table, us, type MachineInfo, runChildTrial } from './report.js';

export type RunnerSystem = 'abathur' | 'before' | 'adk-memory';
export const RUNNER_SYSTEMS: readonly RunnerSystem[] = ['abathur', 'before', 'adk-memory'];

export interface RunnerTrialConfig {
  system: RunnerSystem;
  /** For `before`: the root of the other build. */
  beforeApp?: string;
  path: string;
  sessions: number;
  /** Events each session holds before the timed turns (seeded, untimed). */
  events: number;
  durationMs: number;
  readers: number;
  /** The store's decodeCacheBytes for `abathur` (its default when absent). */
  decodeCacheBytes?: number;
}

export interface RunnerTrialResult {
  system: RunnerSystem;
  events: number;
  turns: number;
  turnsPerSecond: number;
  /** Events per session when the trial ended, on average. */
  eventsAtEnd: number;
  /** Microseconds, a whole turn as the caller sees it. */
  turn: { p50: number; p99: number; max: number };
  eventLoopDelay: { p50: number; p99: number; max: number };
  /** Microseconds of CPU per turn: the caller's (main) thread, and the whole process. */
  callerCpuUs: number | null;
  processCpuUs: number;
  errors: number;
  errorSamples: string[];
}

const APP = 'bench';
// A paragraph of text: about what a model turn's event carries.
const TEXT = 'The forecast for Paris is sunny with a light breeze from the west, 21 degrees in the afternoon. '.repeat(2);

interface Service {
  createSession(request: { appName: string; userId: string; sessionId: string; state?: Record<string, unknown> }): Promise<unknown>;
  getSession(request: { appName: string; userId: string; sessionId: string }): Promise<{ events: unknown[] } | undefined>;
  appendEvent(request: { session: unknown; event: unknown }): Promise<unknown>;
}

/** Gives each abathur session `events` events straight in its file: appending 640,000 through any service would take minutes. */
async function seedFile(path: string, sessions: readonly string[], events: number): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  try {
    const storeIdOf = db.prepare("SELECT session_id FROM adk_sessions WHERE app_name = 'bench' AND id = ?").pluck();
    const insert = db.prepare(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @events) ' +
        "INSERT INTO session_events (session_id, seq, event_id, event) SELECT @storeId, i, @id || '-seed-' || i, " +
        "json_object('id', @id || '-seed-' || i, 'author', CASE i % 2 WHEN 1 THEN 'user' ELSE 'bench_agent' END, 'invocationId', 'seed', " +
        "'timestamp', i, 'content', json_object('role', CASE i % 2 WHEN 1 THEN 'user' ELSE 'model' END, 'parts', json_array(json_object('text', @text))), " +
        "'actions', json_object('stateDelta', json_object('turn', i / 2))) FROM n",
    );
    const count = db.prepare('UPDATE sessions SET event_count = @events WHERE id = @storeId');
    const version = db.prepare("UPDATE adk_sessions SET version = version + 1 WHERE app_name = 'bench' AND id = ?");
    // IMMEDIATE: a deferred transaction that read first could not take the write lock
    // after the store's writer committed (SQLITE_BUSY at once, no busy wait).
    const seed = db.transaction((id: string) => {
      const storeId = storeIdOf.get(id) as string;
      insert.run({ events, storeId, id, text: TEXT });
      count.run({ events, storeId });
      version.run(id);
    });
    for (const id of sessions) seed.immediate(id);
  } finally {
    db.close();
  }
}

async function open(config: RunnerTrialConfig): Promise<{ service: Service; close: () => Promise<void>; file: boolean }> {
  const { InMemorySessionService } = await import('@google/adk');
  if (config.system === 'adk-memory') return { service: new InMemorySessionService() as unknown as Service, close: () => Promise.resolve(), file: false };
  const root = config.system === 'before' ? resolve(config.beforeApp!) : resolve(import.meta.dirname, '..', '..');
  const entry = (file: string) => pathToFileURL(join(root, 'dist', 'src', file)).href;
  const { openStore } = (await import(entry('index.js'))) as typeof import('../src/index.js');
  const { AbathurSessionService } = (await import(entry('adk/index.js'))) as typeof import('../src/adk/index.js');
  const options = config.system === 'abathur' && config.decodeCacheBytes !== undefined ? { decodeCacheBytes: config.decodeCacheBytes } : {};
  const store = await openStore({ path: config.path, readers: config.readers, ...options });
  return { service: new AbathurSessionService(store) as unknown as Service, close: () => store.close(), file: true };
}

export async function runRunnerTrial(config: RunnerTrialConfig): Promise<RunnerTrialResult> {
  const { createEvent } = await import('@google/adk');
  const { build } = await import('hdr-histogram-js');
  const { EventLoopDelay } = await import('../src/cli/event-loop-delay.js');
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.path}${suffix}`, { force: true });
  const { service, close, file } = await open(config);
  const keys = Array.from({ length: config.sessions }, (_, i) => ({ appName: APP, userId: `user${i % 8}`, sessionId: `s${i}` }));
  for (const key of keys) await service.createSession({ ...key, state: { turn: 0 } });
  if (file) {
    await seedFile(config.path, keys.map((k) => k.sessionId), config.events);
  } else {
    for (const key of keys) {
      const session = await service.getSession(key);
      for (let n = 1; n <= config.events; n++) {
        const user = n % 2 === 1;
        await service.appendEvent({
          session,
          event: createEvent({
            author: user ? 'user' : 'bench_agent',
            invocationId: 'seed',
            content: { role: user ? 'user' : 'model', parts: [{ text: TEXT }] },
            actions: { stateDelta: { turn: n >> 1 } },
          }),
        });
      }
    }
  }
  // One untimed turn's read per session: a Runner's sessions have been read before.
  for (const key of keys) await service.getSession(key);

  const histogram = build();
  const eld = new EventLoopDelay();
  let turns = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  eld.start();
  const cpu = cpuMeter();
  const started = performance.now();
  const deadline = started + config.durationMs;
  await Promise.all(
    keys.map(async (key, i) => {
      let turn = 0;
      while (performance.now() < deadline) {
        turn++;
        const t0 = performance.now();
        try {
          const session = await service.getSession(key);
          for (let k = 0; k < 2; k++) {
            const user = k === 0;
            await service.appendEvent({
              session,
              event: createEvent({
                author: user ? 'user' : 'bench_agent',
                invocationId: `inv-${i}-${turn}`,
                content: { role: user ? 'user' : 'model', parts: [{ text: TEXT }] },
                actions: { stateDelta: user ? {} : { turn, 'user:last_turn': turn } },
              }),
            });
          }
          turns++;
          histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch (error) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push((error as Error).message);
        }
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = cpu(turns);
  eld.stop();
  let events = 0;
  for (const key of keys) events += (await service.getSession(key))?.events.length ?? 0;
  await close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.path}${suffix}`, { force: true });
  const pct = (p: number): number => Math.min(histogram.getValueAtPercentile(p), histogram.maxValue);
  return {
    system: config.system,
    events: config.events,
    turns,
    turnsPerSecond: Math.round(turns / (elapsed / 1000)),
    eventsAtEnd: Math.round(events / keys.length),
    turn: { p50: pct(50), p99: pct(99), max: histogram.maxValue },
    eventLoopDelay: eld.summary(),
    callerCpuUs: used.callerUs,
    processCpuUs: used.processUs,
    errors,
    errorSamples,
  };
}

export interface RunnerBenchOptions {
  systems: readonly RunnerSystem[];
  beforeApp?: string;
  sessions: number;
  events: readonly number[];
  durationMs: number;
  trials: number;
  readers: number;
  decodeCacheBytes?: number;
  progress?: (line: string) => void;
}

export interface RunnerBenchResult {
  machine: MachineInfo;
  config: Omit<RunnerBenchOptions, 'progress'>;
  trials: RunnerTrialResult[];
  /** Per length, per system: the median trial by turns/s. */
  summary: Record<string, Record<string, RunnerTrialResult>>;
}

const runChild = (config: RunnerTrialConfig): Promise<RunnerTrialResult> => runChildTrial(benchFile('adk-runner'), config);

export async function runRunnerBench(options: RunnerBenchOptions): Promise<RunnerBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-adk-runner-'));
  const { progress, ...config } = options;
  const trials: RunnerTrialResult[] = [];
  try {
    for (const events of options.events) {
      for (let t = 0; t < options.trials; t++) {
        for (const system of options.systems) {
          const result = await runChild({
            system,
            ...(options.beforeApp === undefined ? {} : { beforeApp: options.beforeApp }),
            path: join(dir, `${system}.db`),
            sessions: options.sessions,
            events,
            durationMs: options.durationMs,
            readers: options.readers,
            ...(options.decodeCacheBytes === undefined ? {} : { decodeCacheBytes: options.decodeCacheBytes }),
          });
          trials.push(result);
          progress?.(
            `  ${events} events, trial ${t + 1}/${options.trials} ${system}: ${int(result.turnsPerSecond)} turns/s, ` +
              `event-loop p99 ${result.eventLoopDelay.p99} ms, caller CPU ${result.callerCpuUs ?? '-'} us/turn`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary: RunnerBenchResult['summary'] = {};
  for (const events of options.events) {
    const row: Record<string, RunnerTrialResult> = {};
    for (const system of options.systems) {
      const mine = trials.filter((r) => r.events === events && r.system === system).sort((a, b) => a.turnsPerSecond - b.turnsPerSecond);
      if (mine.length > 0) row[system] = mine[(mine.length - 1) >> 1]!;
    }
    summary[String(events)] = row;
  }
  return { machine: machineInfo(), config, trials, summary };
}

export function formatRunnerBench(result: RunnerBenchResult): string {
  const { machine, config, summary } = result;
  const rows = [
    ['events', 'system', 'turns/s', 'vs adk-memory', 'vs before', 'turn p50', 'turn p99', 'loop p99', 'loop max', 'caller CPU/turn', 'process CPU/turn', 'events at end', 'errors'],
  ];
  const first = summary[String(config.events[0])] ?? {};
  for (const [events, bySystem] of Object.entries(summary)) {
    const memory = bySystem['adk-memory'];
    const before = bySystem.before;
    for (const [system, m] of Object.entries(bySystem)) {
      rows.push([
        events,
        system,
        int(m.turnsPerSecond),
        memory === undefined ? '-' : ratio(m.turnsPerSecond, memory.turnsPerSecond),
        before === undefined ? '-' : ratio(m.turnsPerSecond, before.turnsPerSecond),
        us(m.turn.p50),
        us(m.turn.p99),
        m.eventLoopDelay.max === 0 ? 'n/a' : `${m.eventLoopDelay.p99} ms`,
        m.eventLoopDelay.max === 0 ? 'n/a' : `${m.eventLoopDelay.max} ms`,
        m.callerCpuUs === null ? '-' : `${m.callerCpuUs} us`,
        `${m.processCpuUs} us`,
        String(m.eventsAtEnd),
        String(m.errors),
      ]);
    }
  }
  const growth = config.systems.map((system) => {
    const base = first[system]?.callerCpuUs;
    const figures = Object.entries(summary).map(([events, s]) => {
      const cpu = s[system]?.callerCpuUs;
      return `${events}: ${cpu ?? '-'} us${base && cpu ? ` (${(cpu / base).toFixed(2)}x)` : ''}`;
    });
    return `  ${system}: ${figures.join(', ')}`;
  });
  const errors = result.trials.flatMap((r) => r.errorSamples.map((e) => `  ${r.system} ${r.events}: ${e}`));
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}`,
    `workload: ADK Runner turns (getSession, then appendEvent of a user and a model event of ~250 bytes of text), ${config.sessions} sessions at once,`,
    `  sessions seeded to each length first; ${config.durationMs / 1000} s per trial, ${config.trials} trials (median by turns/s), ${config.readers} readers` +
      (config.decodeCacheBytes === undefined ? '' : `, abathur's decodeCacheBytes ${config.decodeCacheBytes}`),
    "  loop: the caller's event-loop delay; CPU/turn from the threads' own clocks (caller: the main thread)",
    '',
    table(rows),
    '',
    "caller CPU per turn by session length (x: over the first length's):",
    ...growth,
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
  ].join('\n');
}

// Run as a child process: `node adk-runner.js '<config json>'`.
if (process.argv[2] !== undefined && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const result = await runRunnerTrial(JSON.parse(process.argv[2]) as RunnerTrialConfig);
  process.stdout.write(JSON.stringify(result));
}
