// One benchmark trial in its own process, so one system's threads, heap and caches do
// not colour another's figures. Reads its configuration as JSON from argv[2] and writes
// its result as JSON on stdout.
import { copyFileSync, rmSync } from 'node:fs';
import type { SeedInfo } from './seed.js';
import { openSystem, type SystemName } from './systems.js';
import { runLoad, type LoadResult, type Mix, type Think } from './workload.js';
import { runWriterLimit } from './writer-limit.js';
import type { Synchronous } from '../src/internal.js';

export interface TrialConfig {
  system: SystemName;
  template: string;
  path: string;
  seed: SeedInfo;
  sessions: number;
  readers: number;
  durationMs: number;
  mix: Mix;
  think: Think;
  synchronous: Synchronous;
  maxWriteBatch?: number;
  /** The other build the `before` system loads. */
  beforeApp?: string;
  runId: number;
  appender?: { sessionId: string; eventBytes: number };
  /** A `postgres` trial's database (a fresh clone of the seeded template) and pool size. */
  url?: string;
  pool?: number;
}

const config = JSON.parse(process.argv[2]!) as TrialConfig;
for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.path}${suffix}`, { force: true });
// A SQLite trial runs on a fresh copy of the template file; a PostgreSQL one on a fresh
// clone of the template database, made by the parent.
if (config.url === undefined) copyFileSync(config.template, config.path);
let result: LoadResult;
if (config.system === 'writer-limit') {
  result = runWriterLimit({
    path: config.path,
    seed: { ...config.seed, path: config.path },
    synchronous: config.synchronous,
    durationMs: config.durationMs,
    mix: config.mix,
    runId: config.runId,
  });
} else {
  const system = await openSystem(config.system, {
    path: config.path,
    readers: config.readers,
    synchronous: config.synchronous,
    ...(config.maxWriteBatch === undefined ? {} : { maxWriteBatch: config.maxWriteBatch }),
    ...(config.beforeApp === undefined ? {} : { beforeApp: config.beforeApp }),
    ...(config.url === undefined ? {} : { url: config.url }),
    ...(config.pool === undefined ? {} : { pool: config.pool }),
  });
  result = await runLoad(system, {
    sessions: config.sessions,
    durationMs: config.durationMs,
    mix: config.mix,
    seed: { ...config.seed, path: config.path },
    think: config.think,
    runId: config.runId,
    ...(config.appender === undefined ? {} : { appender: config.appender }),
  });
  await system.close();
}
for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.path}${suffix}`, { force: true });
process.stdout.write(JSON.stringify(result));
