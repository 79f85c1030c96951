// One ADK session-service trial in its own process (bench --adk): config as JSON in
// argv[2], result as JSON on stdout. @google/adk loads only here, and only the service
// measured is set up: the store for 'abathur', MikroORM with node-sqlite3 for 'adk-database'.
import { createEvent, DatabaseSessionService, InMemorySessionService, type BaseSessionService, type Session } from '@google/adk';
import { build, type Histogram } from 'hdr-histogram-js';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AbathurSessionService } from '../src/adk/index.js';
import { openStore } from '../src/store.js';
import { EventLoopDelay } from '../src/cli/event-loop-delay.js';
import type { Synchronous } from '../src/sqlite/connection.js';

export type AdkSystemName = 'abathur' | 'adk-database' | 'adk-memory' | 'abathur-pg' | 'adk-database-pg';

export interface AdkTrialConfig {
  system: AdkSystemName;
  path: string;
  /** A fresh PostgreSQL database, for the systems on PostgreSQL. */
  url?: string;
  sessions: number;
  users: number;
  durationMs: number;
  /** Appends per getSession: a Runner turn reads the session once, then appends its events. */
  appendsPerRead: number;
  /** Events in each session of the reads phase (appended before it, untimed). */
  eventsPerRead: number;
  readers: number;
  synchronous: Synchronous;
}

export interface AdkLatency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface AdkTrialResult {
  system: AdkSystemName;
  sessions: number;
  /** Appends phase: sessions looping as Runner turns (getSession, then appendEvent per event). */
  durationMs: number;
  appends: number;
  appendsPerSecond: number;
  /** Events in a session when the appends phase ended, on average over the sessions. */
  eventsPerSession: number;
  /** Reads phase: getSession only, on sessions of `eventsPerRead` events each (the fewest any read returned). */
  readMs: number;
  reads: number;
  readsPerSecond: number;
  eventsPerRead: number;
  /** Microseconds, as the caller sees them: appendEvent in the appends phase, getSession in the reads phase. */
  latency: { getSession: AdkLatency; appendEvent: AdkLatency };
  errors: number;
  errorSamples: string[];
  /** Of 64 concurrent first createSession calls for one new user, how many were rejected. */
  rejectedCreates: number;
  /** Over both phases. */
  eventLoopDelay: { p50: number; p99: number; max: number };
}

const APP = 'bench';
// About what a model turn's event carries: a paragraph of text and a small delta.
const TEXT = 'The forecast for Paris is sunny with a light breeze from the west, 21 degrees in the afternoon. '.repeat(2);

async function open(config: AdkTrialConfig): Promise<{ service: BaseSessionService; close: () => Promise<void> }> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${config.path}${suffix}`, { force: true });
  switch (config.system) {
    case 'abathur': {
      const store = await openStore({ path: config.path, readers: config.readers, synchronous: config.synchronous });
      return { service: new AbathurSessionService(store), close: () => store.close() };
    }
    case 'adk-database': {
      const service = new DatabaseSessionService(`sqlite://${config.path}`);
      await service.init();
      // It has no close(): its MikroORM connection would keep the process alive.
      const orm = (service as unknown as { orm: { close(force: boolean): Promise<void> } }).orm;
      return { service, close: () => orm.close(true) };
    }
    case 'abathur-pg': {
      const store = await openStore({ url: config.url! });
      return { service: new AbathurSessionService(store), close: () => store.close() };
    }
    case 'adk-database-pg': {
      const service = new DatabaseSessionService(config.url!);
      await service.init();
      const orm = (service as unknown as { orm: { close(force: boolean): Promise<void> } }).orm;
      return { service, close: () => orm.close(true) };
    }
    case 'adk-memory':
      return { service: new InMemorySessionService(), close: () => Promise.resolve() };
  }
}

function summary(h: Histogram): AdkLatency {
  return { count: h.totalCount, p50: Math.min(h.getValueAtPercentile(50), h.maxValue), p99: Math.min(h.getValueAtPercentile(99), h.maxValue), max: h.maxValue };
}

const event = (i: number, turn: number, k: number, last: boolean) =>
  createEvent({
    author: k === 0 ? 'user' : 'bench_agent',
    invocationId: `inv-${i}-${turn}`,
    content: { role: k === 0 ? 'user' : 'model', parts: [{ text: TEXT }] },
    actions: { stateDelta: { turn, [`step${k}`]: k, ...(last ? { 'user:last_turn': turn } : {}) } },
  });

export async function runAdkTrial(config: AdkTrialConfig): Promise<AdkTrialResult> {
  const { service, close } = await open(config);
  const keysOf = (kind: string) =>
    Array.from({ length: config.sessions }, (_, i) => ({ appName: APP, userId: `user${i % config.users}`, sessionId: `${kind}-${i}` }));
  // 64 first sessions of one new user at once, as 64 callers starting conversations.
  const creates = await Promise.allSettled(
    Array.from({ length: 64 }, (_, i) => service.createSession({ appName: APP, userId: 'newcomer', sessionId: `first-${i}`, state: { turn: 0 } })),
  );
  const rejectedCreates = creates.filter((c) => c.status === 'rejected').length;
  const turnKeys = keysOf('turns');
  const readKeys = keysOf('reads');
  for (const key of [...turnKeys, ...readKeys]) await service.createSession({ ...key, state: { turn: 0 } });
  // The reads phase's sessions get their events first, one append at a time (untimed), so
  // every system reads the same history whatever its append rate.
  for (const [i, key] of readKeys.entries()) {
    const session = (await service.getSession(key))!;
    for (let n = 0; n < config.eventsPerRead; n++) {
      await service.appendEvent({ session, event: event(i, n >> 2, n % 4, n % 4 === 3) });
    }
  }
  const histograms = { getSession: build(), appendEvent: build() };
  const eld = new EventLoopDelay();
  let appends = 0;
  let reads = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const fail = (error: unknown): void => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push((error as Error).message);
  };
  const timed = async <T>(h: Histogram | undefined, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await call();
    h?.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
    return value;
  };

  eld.start();
  // Appends phase: Runner turns.
  const startedAt = performance.now();
  const deadline = startedAt + config.durationMs;
  await Promise.all(
    turnKeys.map(async (key, i) => {
      let turn = 0;
      while (performance.now() < deadline) {
        turn++;
        let session: Session | undefined;
        try {
          session = await service.getSession(key);
        } catch (error) {
          fail(error);
        }
        if (session === undefined) continue;
        const current = session;
        for (let k = 0; k < config.appendsPerRead && performance.now() < deadline; k++) {
          try {
            await timed(histograms.appendEvent, () => service.appendEvent({ session: current, event: event(i, turn, k, k === config.appendsPerRead - 1) }));
            appends++;
          } catch (error) {
            fail(error);
          }
        }
      }
    }),
  );
  const elapsed = performance.now() - startedAt;
  // Reads phase: getSession of sessions of equal length.
  const readStart = performance.now();
  const readDeadline = readStart + config.durationMs / 2;
  let eventsRead = Number.POSITIVE_INFINITY;
  await Promise.all(
    readKeys.map(async (key) => {
      while (performance.now() < readDeadline) {
        try {
          const session = await timed(histograms.getSession, () => service.getSession(key));
          eventsRead = Math.min(eventsRead, session?.events.length ?? 0);
          reads++;
        } catch (error) {
          fail(error);
        }
      }
    }),
  );
  const readElapsed = performance.now() - readStart;
  eld.stop();
  let events = 0;
  for (const key of turnKeys) events += (await service.getSession(key))?.events.length ?? 0;
  await close();
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${config.path}${suffix}`, { force: true });
  return {
    system: config.system,
    sessions: config.sessions,
    durationMs: Math.round(elapsed),
    appends,
    appendsPerSecond: Math.round(appends / (elapsed / 1000)),
    eventsPerSession: Math.round(events / turnKeys.length),
    readMs: Math.round(readElapsed),
    reads,
    readsPerSecond: Math.round(reads / (readElapsed / 1000)),
    eventsPerRead: reads === 0 ? 0 : eventsRead,
    latency: { getSession: summary(histograms.getSession), appendEvent: summary(histograms.appendEvent) },
    errors,
    errorSamples,
    rejectedCreates,
    eventLoopDelay: eld.summary(),
  };
}

// Run as a child process: `node adk-trial.js '<config json>'`.
if (process.argv[2] !== undefined && import.meta.url === `file://${process.argv[1]}`) {
  const result = await runAdkTrial(JSON.parse(process.argv[2]) as AdkTrialConfig);
  process.stdout.write(JSON.stringify(result));
}
