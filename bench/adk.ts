// bench --adk: ADK session services under 64 concurrent sessions, each doing what a
// Runner turn does to its session service (getSession, then appendEvent per event), on
// AbathurSessionService and on ADK's own DatabaseSessionService over a SQLite file (its
// sqlite:// driver: MikroORM on node-sqlite3), with InMemorySessionService as a reference.
// Each trial runs in its own process; systems are interleaved, medians reported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Synchronous } from '../src/sqlite/connection.js';
import { benchFile } from './paths.js';
import { postgresDatabases } from './postgres-databases.js';
import type { AdkSystemName, AdkTrialConfig, AdkTrialResult } from './adk-trial.js';
import { int, machineInfo, median, ratio, table, us, type MachineInfo, runChildTrial } from './report.js';

export const ADK_SYSTEMS: readonly AdkSystemName[] = ['abathur', 'adk-database', 'adk-memory'];
/** Named with --systems only: they need a PostgreSQL server (--url, or an embedded one). */
export const ADK_POSTGRES_SYSTEMS: readonly AdkSystemName[] = ['abathur-pg', 'adk-database-pg'];

export interface AdkBenchOptions {
  systems: readonly AdkSystemName[];
  sessions: number;
  readers: number;
  durationMs: number;
  trials: number;
  synchronous: Synchronous;
  /** The PostgreSQL server for the systems on PostgreSQL; none: an embedded one. */
  url?: string;
  progress?: (line: string) => void;
}

export interface AdkBenchResult {
  machine: MachineInfo;
  config: Omit<AdkBenchOptions, 'progress' | 'systems' | 'url'> & { users: number; appendsPerRead: number; eventsPerRead: number };
  trials: Record<string, AdkTrialResult[]>;
  /** The PostgreSQL server the PostgreSQL systems ran on, when any did. */
  postgres?: string;
  /** Per system: the median trial (by appends/s) and its ratio to DatabaseSessionService's on the same engine. */
  summary: Record<string, { median: AdkTrialResult; vsDatabase: number | null }>;
}

const runAdkTrial = (config: AdkTrialConfig): Promise<AdkTrialResult> => runChildTrial(benchFile('adk-trial'), config);

export async function runAdkBench(options: AdkBenchOptions): Promise<AdkBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-adk-bench-'));
  const config = {
    sessions: options.sessions,
    users: Math.max(1, Math.round(options.sessions / 8)),
    readers: options.readers,
    durationMs: options.durationMs,
    trials: options.trials,
    synchronous: options.synchronous,
    appendsPerRead: 4,
    eventsPerRead: 16,
  };
  const databases = options.systems.some((system) => ADK_POSTGRES_SYSTEMS.includes(system))
    ? await postgresDatabases({ ...(options.url === undefined ? {} : { url: options.url }), progress: options.progress })
    : undefined;
  try {
    const trials: Record<string, AdkTrialResult[]> = {};
    for (let t = 0; t < options.trials; t++) {
      for (const system of options.systems) {
        const url = ADK_POSTGRES_SYSTEMS.includes(system) ? await databases!.fresh() : undefined;
        const result = await runAdkTrial({ ...config, system, path: join(dir, `${system}.db`), ...(url === undefined ? {} : { url }) });
        (trials[system] ??= []).push(result);
        options.progress?.(
          `  trial ${t + 1}/${options.trials} ${system}: ${int(result.appendsPerSecond)} appends/s, ` +
            `getSession p99 ${us(result.latency.getSession.p99)} (${int(result.readsPerSecond)}/s), event-loop p99 ${result.eventLoopDelay.p99} ms`,
        );
      }
    }
    const medians = Object.fromEntries(
      Object.entries(trials).map(([system, results]) => {
        const sorted = [...results].sort((a, b) => a.appendsPerSecond - b.appendsPerSecond);
        return [system, sorted[(sorted.length - 1) >> 1]!];
      }),
    );
    const baseOf = (system: string): number | undefined => {
      const base = ADK_POSTGRES_SYSTEMS.includes(system as AdkSystemName) ? 'adk-database-pg' : 'adk-database';
      return trials[base] === undefined ? undefined : median(trials[base].map((r) => r.appendsPerSecond));
    };
    const summary: AdkBenchResult['summary'] = {};
    for (const [system, m] of Object.entries(medians)) {
      const database = baseOf(system);
      summary[system] = { median: m, vsDatabase: database === undefined || database === 0 ? null : m.appendsPerSecond / database };
    }
    return { machine: machineInfo(), config, trials, summary, ...(databases === undefined ? {} : { postgres: databases.describe }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await databases?.close();
  }
}

export function formatAdkBench(result: AdkBenchResult): string {
  const { machine, config, summary } = result;
  const rows = [
    ['system', 'appends/s', 'vs database', 'append p50', 'append p99', 'getSession/s', 'getSession p50', 'getSession p99', 'p99 vs database', 'event-loop p99', 'rejected creates', 'errors'],
  ];
  for (const [system, { median: m }] of Object.entries(summary)) {
    // DatabaseSessionService on the same engine.
    const database = summary[ADK_POSTGRES_SYSTEMS.includes(system as AdkSystemName) ? 'adk-database-pg' : 'adk-database']?.median;
    rows.push([
      system,
      int(m.appendsPerSecond),
      database === undefined ? '-' : ratio(m.appendsPerSecond, database.appendsPerSecond),
      us(m.latency.appendEvent.p50),
      us(m.latency.appendEvent.p99),
      int(m.readsPerSecond),
      us(m.latency.getSession.p50),
      us(m.latency.getSession.p99),
      database === undefined ? '-' : ratio(database.latency.getSession.p99, m.latency.getSession.p99),
      // InMemorySessionService resolves at once: its loop never yields, and no timer runs
      // to be late (the histogram stays empty), which is not the same as no delay.
      m.eventLoopDelay.max === 0 ? 'n/a' : `${m.eventLoopDelay.p99} ms`,
      `${m.rejectedCreates} / 64`,
      String(m.errors),
    ]);
  }
  const errors = Object.entries(summary).flatMap(([system, s]) => s.median.errorSamples.map((e) => `  ${system}: ${e}`));
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}`,
    ...(result.postgres === undefined ? [] : [`PostgreSQL systems (-pg): ${result.postgres}, each trial on a fresh database; 'vs database' is against adk-database-pg`]),
    `workload: ${config.sessions} sessions of ${config.users} users, ${config.trials} trials (median by appends/s), ${config.readers} readers, synchronous ${config.synchronous}`,
    `  appends: ${config.durationMs / 1000} s of Runner turns, each a getSession then ${config.appendsPerRead} appendEvent (about 250 bytes of text and a state delta each)`,
    `  getSession: ${config.durationMs / 2000} s of getSession only, on sessions of ${config.eventsPerRead} events each`,
    "  'p99 vs database': DatabaseSessionService's getSession p99 over this system's (higher is better)",
    "  'rejected creates': of 64 concurrent first createSession calls for one new user, those that failed",
    "  event-loop n/a: the callers never yielded to the event loop (every call resolved at once), so no timer ran to be measured",
    '',
    table(rows),
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
  ].join('\n');
}
