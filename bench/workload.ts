import { build, type Histogram } from 'hdr-histogram-js';
import { existsSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { appOf, projectOf, sessionIdOf, userOf, type SeedInfo } from './seed.js';
import type { BatchCounts, System } from './systems.js';
import { cpuMeter, type CpuPerOp } from './cpu.js';
import { EventLoopDelay, UsageError } from '../src/internal.js';

export const OPERATIONS = [
  'getSession',
  'getMemory',
  'context',
  'appendEvent',
  'updateMemory',
  'claimComplete',
  'saveCheckpoint',
  'recordMetric',
] as const;
export type OpName = (typeof OPERATIONS)[number];
export type Mix = Partial<Record<OpName, number>>;

/** Named mixes; `--mix` also takes `op=weight,op=weight`. */
export const MIXES: Readonly<Record<string, Mix>> = {
  /** Point reads of a session by primary key: DESIGN §7's headline comparison. */
  read: { getSession: 1 },
  /** An orchestrator's day: mostly reads, a steady stream of small writes. */
  mixed: {
    getSession: 30,
    getMemory: 25,
    context: 10,
    appendEvent: 15,
    updateMemory: 8,
    claimComplete: 4,
    saveCheckpoint: 4,
    recordMetric: 4,
  },
  /** Context synthesis only: four prefix scans per call. */
  heavy: { context: 1 },
  /** Small audited writes only. */
  write: { recordMetric: 1 },
  /** Event appends with a state delta only: the hottest write of an agent session. */
  append: { appendEvent: 1 },
};

export function parseMix(text: string): Mix {
  const named = MIXES[text];
  if (named !== undefined) return named;
  const mix: Mix = {};
  for (const part of text.split(',')) {
    const [op, weight] = part.split('=');
    if (!(OPERATIONS as readonly string[]).includes(op ?? '') || !(Number(weight) > 0)) {
      throw new UsageError(`--mix takes a name (${Object.keys(MIXES).join(', ')}) or op=weight pairs of ${OPERATIONS.join(', ')}`);
    }
    mix[op as OpName] = Number(weight);
  }
  return mix;
}

/**
 * `none`: a tight loop of awaits (the caller never yields to the event loop).
 * `immediate`: each session yields to the event loop before each operation, as one
 * driven by I/O does, but waits for nothing: the load saturates the system.
 * A number: each session thinks for an exponentially distributed time with this mean
 * (milliseconds) between operations, as sessions waiting on models and tools do: an
 * offered load below saturation, where latency is service time, not queueing.
 */
export type Think = 'none' | 'immediate' | number;

export function parseThink(text: string): Think {
  if (text === 'none' || text === 'immediate') return text;
  const ms = Number(text);
  if (!(ms > 0)) throw new UsageError(`--think must be none, immediate or a mean think time in ms, got "${text}"`);
  return ms;
}

export interface LoadOptions {
  sessions: number;
  durationMs: number;
  mix: Mix;
  seed: SeedInfo;
  /** How sessions pace themselves between operations; see {@link Think}. */
  think: Think;
  /** Unique per run, so checkpoint iterations never collide across runs on one file. */
  runId?: number;
  /**
   * One more caller, beside the `sessions`, that appends events of `eventBytes` to one
   * session without pause (the growth sweep points it at a session of 100k events). Its
   * calls are reported apart and not counted in `ops` or `throughput`.
   */
  appender?: { sessionId: string; eventBytes: number };
}

export interface LatencySummary {
  count: number;
  /** Microseconds. */
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  system: string;
  sessions: number;
  durationMs: number;
  ops: number;
  throughput: number;
  errors: number;
  errorSamples: string[];
  latency: Partial<Record<OpName, LatencySummary>>;
  /** How late the caller's event loop ran a 1 ms timer, milliseconds. */
  eventLoopDelay: { p50: number; p99: number; max: number };
  walPeakBytes: number;
  /** CPU per operation: the caller's thread, and the whole process (see bench/cpu.ts). */
  cpu: CpuPerOp;
  /** The facade's reads per reader message and writes per commit. */
  batches?: { read: BatchCounts; write: BatchCounts };
  /** The extra appender's calls, when there was one. */
  appender?: LatencySummary & { errors: number };
}

/** Operations that write: the mix's writes, counted by the growth sweep. */
export const WRITE_OPERATIONS: readonly OpName[] = ['appendEvent', 'updateMemory', 'claimComplete', 'saveCheckpoint', 'recordMetric'];

/** A small seeded PRNG (mulberry32): each session's choices are the same in every system. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function picker(mix: Mix): (r: number) => OpName {
  const entries = Object.entries(mix) as [OpName, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  return (r) => {
    let x = r * total;
    for (const [op, weight] of entries) {
      x -= weight;
      if (x < 0) return op;
    }
    return entries[entries.length - 1]![0];
  };
}

/**
 * Drives `sessions` concurrent callers through `system` for `durationMs`, each choosing
 * operations from the mix, and measures throughput, per-operation latency, the caller's
 * event-loop delay and the WAL's peak size.
 */
export async function runLoad(system: System, options: LoadOptions): Promise<LoadResult> {
  const { seed } = options;
  const pick = picker(options.mix);
  const histograms = new Map<OpName, Histogram>();
  const record = (op: OpName, started: number): void => {
    let h = histograms.get(op);
    if (h === undefined) {
      h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 2 });
      histograms.set(op, h);
    }
    h.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
  };
  const walPath = `${seed.path}-wal`;
  let walPeakBytes = 0;
  const sampleWal = (): void => {
    const size = existsSync(walPath) ? statSync(walPath).size : 0;
    if (size > walPeakBytes) walPeakBytes = size;
  };
  const walSampler = setInterval(sampleWal, 50);
  const eld = new EventLoopDelay();
  let ops = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const runId = options.runId ?? Date.now() % 1_000_000;

  const session = async (index: number): Promise<void> => {
    const next = random(index + 1);
    const i = index % seed.sessions;
    const sessionId = sessionIdOf(i);
    const context = {
      sessionId,
      userId: userOf(i, seed.users),
      appName: appOf(i, seed.apps),
      projectId: projectOf(i, seed.projects),
    };
    let iteration = 0;
    while (performance.now() < deadline) {
      if (options.think === 'immediate') await yieldToLoop();
      else if (typeof options.think === 'number') await sleep(-Math.log(1 - next()) * options.think);
      const op = pick(next());
      const key = `key${Math.floor(next() * seed.memoryPerScope)}`;
      const started = performance.now();
      try {
        switch (op) {
          case 'getSession':
            await system.getSession(sessionIdOf(Math.floor(next() * seed.sessions)));
            break;
          case 'getMemory':
            await system.getMemory(next() < 0.5 ? `session:${sessionId}` : `user:${context.userId}`, key);
            break;
          case 'context':
            await system.context(context);
            break;
          case 'appendEvent':
            await system.appendEvent(sessionId, { role: 'agent', text: 'working on it', n: iteration }, { step: iteration });
            break;
          case 'updateMemory':
            await system.updateMemory(`session:${sessionId}`, key, { fact: 'updated', n: iteration });
            break;
          case 'claimComplete': {
            const task = await system.claimNext();
            if (task !== undefined) await system.completeTask(task.id, { done: true });
            break;
          }
          case 'saveCheckpoint':
            await system.saveCheckpoint(`task${i}`, runId * 1_000_000 + index * 10_000 + iteration, { step: iteration });
            break;
          case 'recordMetric':
            await system.recordMetric('latency_ms', iteration % 100, { session: sessionId });
            break;
        }
        ops++;
        record(op, started);
      } catch (error) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${op}: ${(error as Error).message}`);
      }
      iteration++;
    }
  };

  const batchesBefore = system.batches?.();
  const appended = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 2 });
  let appenderErrors = 0;
  const appender = async ({ sessionId, eventBytes }: { sessionId: string; eventBytes: number }): Promise<void> => {
    const text = 'x'.repeat(Math.max(0, eventBytes - 40));
    for (let n = 0; performance.now() < deadline; n++) {
      if (options.think === 'immediate') await yieldToLoop();
      const started = performance.now();
      try {
        await system.appendEvent(sessionId, { role: 'tool', n, text }, { n });
        appended.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
      } catch (error) {
        appenderErrors++;
        if (errorSamples.length < 5) errorSamples.push(`appender: ${(error as Error).message}`);
      }
    }
  };

  eld.start();
  const cpu = cpuMeter();
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  await Promise.all([
    ...Array.from({ length: options.sessions }, (_, index) => session(index)),
    ...(options.appender === undefined ? [] : [appender(options.appender)]),
  ]);
  const elapsed = performance.now() - startedAt;
  const cpuPerOp = cpu(ops);
  const batchesAfter = system.batches?.();
  const since = (after: BatchCounts, before: BatchCounts): BatchCounts => {
    const batches = after.batches - before.batches;
    const calls = after.calls - before.calls;
    // The largest is the store's since it opened: it has no counter to subtract.
    return { batches, calls, mean: batches === 0 ? 0 : Math.round((calls / batches) * 10) / 10, max: after.max };
  };
  const batches =
    batchesBefore === undefined || batchesAfter === undefined
      ? undefined
      : { read: since(batchesAfter.read, batchesBefore.read), write: since(batchesAfter.write, batchesBefore.write) };
  // Let the loop turn once more, so a stretch it spent blocked is recorded too.
  await sleep(5);
  eld.stop();
  clearInterval(walSampler);
  sampleWal();

  const latency: Partial<Record<OpName, LatencySummary>> = {};
  for (const [op, h] of histograms) {
    latency[op] = {
      count: h.totalCount,
      p50: Math.min(h.getValueAtPercentile(50), h.maxValue),
      p99: Math.min(h.getValueAtPercentile(99), h.maxValue),
      max: h.maxValue,
    };
  }
  return {
    system: system.name,
    sessions: options.sessions,
    durationMs: Math.round(elapsed),
    ops,
    throughput: Math.round(ops / (elapsed / 1000)),
    errors,
    errorSamples,
    latency,
    eventLoopDelay: eld.summary(),
    walPeakBytes,
    cpu: cpuPerOp,
    ...(batches === undefined ? {} : { batches }),
    ...(options.appender === undefined
      ? {}
      : {
          appender: {
            count: appended.totalCount,
            p50: Math.min(appended.getValueAtPercentile(50), appended.maxValue),
            p99: Math.min(appended.getValueAtPercentile(99), appended.maxValue),
            max: appended.maxValue,
            errors: appenderErrors,
          },
        }),
  };
}
