import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../api/errors.js';
import { formatCheckReport } from '../diagnostics/check-report.js';
import type { LatencySummary } from '../diagnostics/engine-stats.js';
import { openReaderConnection, type Connection } from '../sqlite/connection.js';
import { EventLoopDelay } from './event-loop-delay.js';
import { engineOf, openStore, type Store } from '../store.js';

/**
 * The demo's own database: not the README's `./data/abathur.db`, which is where a user's
 * own store is likely to be, and which the demo must never fill with its rows.
 */
export const DEMO_PATH = './data/abathur-demo.db';

/** The memory entry that marks a database as the demo's: a later run may write there again. */
const DEMO_MARK = { namespace: 'abathur-store:demo', key: 'database' } as const;

/** The tables a user's data lives in; a database with a row in any of them is not the demo's to fill. */
const DATA_TABLES = [
  'sessions',
  'memory_entries',
  'document_index',
  'tasks',
  'agents',
  'state',
  'checkpoints',
  'metrics',
  'audit',
  'lg_checkpoints',
  'lg_store',
  'adk_sessions',
  'adk_app_states',
  'adk_user_states',
];

function holdsOtherData(db: Connection): boolean {
  const tables = new Set(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]);
  const marked =
    tables.has('memory_entries') &&
    db.prepare('SELECT 1 FROM memory_entries WHERE namespace = ? AND key = ? LIMIT 1').get(DEMO_MARK.namespace, DEMO_MARK.key) !== undefined;
  return !marked && DATA_TABLES.some((table) => tables.has(table) && db.prepare(`SELECT 1 FROM "${table}" LIMIT 1`).get() !== undefined);
}

/**
 * Refuses a database that holds rows the demo did not write, before the store opens it
 * (opening would migrate it): the demo fills its database with sessions, memory, tasks
 * and metrics, and a user's own store must not receive them. A missing or empty file, or
 * one an earlier demo run marked, is the demo's.
 */
function refuseOtherData(path: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return;
  }
  if (size === 0) return;
  const db = openReaderConnection(path, 5000);
  try {
    if (holdsOtherData(db)) {
      throw new StoreError(
        'INVALID_STATE',
        `${path} holds data the demo did not write, and the demo would add its own sessions, memory, tasks and metrics to it; ` +
          `give --path a new file (the demo's own is ${DEMO_PATH})`,
      );
    }
  } finally {
    db.close();
  }
}

export interface DemoOptions {
  path: string;
  sessions: number;
  durationMs: number;
  /** Mean pause between a session's turns (ms): sessions wait on models and tools. */
  thinkMs: number;
  /** Where progress and the report go. */
  out: (text: string) => void;
  /** Redraw a progress bar in place (a terminal), or print a line now and then. */
  interactive: boolean;
}

export interface DemoResult {
  ok: boolean;
  turns: number;
  errors: number;
  errorSamples: string[];
  latency: Record<string, LatencySummary>;
  durationMs: number;
  eventLoopDelay: { p50: number; p99: number; max: number };
  peakWalBytes: number;
  checkOk: boolean;
  /** Each session's turns, and its event count as the store reports it at the end. */
  eventCounts: { sessionId: string; turns: number; eventCount: number }[];
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const APPS = ['planner', 'coder', 'reviewer'];

/** A small seeded PRNG, so two runs make the same choices. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One orchestrated agent session: each turn reads the session and its memory context,
 * appends what happened, sometimes revises a memory, claims and completes a task, saves
 * a checkpoint and records metrics — what an orchestrator does around each model call.
 */
interface Progress {
  turns: number;
  onError(error: unknown): void;
}

async function runSession(
  store: Store,
  index: number,
  run: string,
  deadline: number,
  options: DemoOptions,
  progress: Progress,
): Promise<{ sessionId: string; turns: number }> {
  const next = random(index + 1);
  const user = `${USERS[index % USERS.length]!}-${run}`;
  const appName = APPS[index % APPS.length]!;
  const session = await store.sessions.create({ appName, userId: user, projectId: `demo-${run}`, state: { turn: 0 } });
  await store.sessions.setStatus(session.id, 'active');
  // Sessions of one user share its preferences: the first one in adds them.
  await store.memory
    .add({ namespace: `user:${user}:preferences`, key: 'style', value: { verbosity: 'short' }, type: 'semantic' })
    .catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'CONFLICT') throw error;
    });
  await store.memory.add({ namespace: `session:${session.id}`, key: 'goal', value: `ship feature ${index}`, type: 'episodic' });
  let turns = 0;
  while (performance.now() < deadline) {
    await sleep(-Math.log(1 - next()) * options.thinkMs);
    try {
      // The newest 20 events, an index range however long the session has run.
      const recent = await store.sessions.get(session.id, { lastEvents: 20 });
      const context = await store.memory.context({ sessionId: session.id, userId: user, appName, projectId: `demo-${run}` });
      const style = await store.memory.get(`user:${user}:preferences`, 'style');
      // The eventId makes a retried append (after OUTCOME_UNKNOWN, say) a no-op.
      await store.sessions.appendEvent(
        session.id,
        { role: 'agent', turn: turns, saw: context.user.length, after: recent?.eventCount ?? 0 },
        { eventId: `turn-${turns}`, stateDelta: { turn: turns } },
      );
      if (style !== undefined && next() < 0.2) {
        await store.memory.update(`user:${user}:preferences`, 'style', { verbosity: next() < 0.5 ? 'short' : 'long' }, { expectedVersion: style.version });
      }
      if (next() < 0.3) {
        const task = await store.tasks.create({ prompt: `subtask of turn ${turns}`, inputData: { turn: turns }, sessionId: session.id, priority: 1 + Math.floor(next() * 10) });
        const claimed = await store.tasks.claimNext();
        if (claimed !== undefined) await store.tasks.complete(claimed.id, { ok: true });
        await store.checkpoints.save({ taskId: task.id, iteration: turns, state: { turn: turns }, sessionId: session.id });
      }
      await store.metrics.record('demo.turn_tokens', Math.round(next() * 2000), { labels: { app: appName } });
    } catch (error) {
      // Another session may have revised the same memory first: that CONFLICT is the
      // optimistic concurrency working, not a failure.
      if ((error as { code?: string }).code !== 'CONFLICT') progress.onError(error);
    }
    turns++;
    progress.turns++;
  }
  await store.sessions.setStatus(session.id, 'terminated');
  return { sessionId: session.id, turns };
}

const fmt = (us: number): string => (us >= 10_000 ? `${(us / 1000).toFixed(1)} ms` : `${us} us`);

function report(result: DemoResult, options: DemoOptions): string {
  const seconds = result.durationMs / 1000;
  const names = Object.keys(result.latency);
  const rows = names.map((name) => {
    const l = result.latency[name]!;
    return [name, String(l.count), String(Math.round(l.count / seconds)), fmt(Math.min(l.p50, l.max)), fmt(Math.min(l.p99, l.max)), fmt(l.max)];
  });
  const header = ['operation', 'calls', 'per s', 'p50', 'p99', 'max'];
  const widths = header.map((h, c) => rows.reduce((width, r) => Math.max(width, r[c]!.length), h.length));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const total = names.reduce((sum, name) => sum + result.latency[name]!.count, 0);
  return [
    '',
    `${options.sessions} sessions, ${seconds.toFixed(1)} s, ${result.turns} agent turns, ${total} store calls (${Math.round(total / seconds)} per second)`,
    '',
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `caller event-loop delay (how late a 1 ms timer ran): p50 ${result.eventLoopDelay.p50} ms, p99 ${result.eventLoopDelay.p99} ms, max ${result.eventLoopDelay.max} ms`,
    `peak WAL size: ${(result.peakWalBytes / 2 ** 20).toFixed(1)} MiB`,
    ...eventCountLines(result.eventCounts),
    `errors: ${result.errors}${result.errorSamples.length > 0 ? `\n  ${result.errorSamples.join('\n  ')}` : ''}`,
  ].join('\n');
}

/** Each session's eventCount, six to a line, and their total. */
function eventCountLines(counts: DemoResult['eventCounts']): string[] {
  const total = counts.reduce((sum, c) => sum + c.eventCount, 0);
  const cells = counts.map((c) => `${c.sessionId.slice(0, 8)} ${String(c.eventCount).padStart(4)}`);
  const lines = [`eventCount per session (${total} events in ${counts.length} sessions, each read back with lastEvents: 20 every turn):`];
  for (let i = 0; i < cells.length; i += 6) lines.push(`  ${cells.slice(i, i + 6).join('   ')}`);
  return lines;
}

/** The demo behind `npm start`: an orchestrator's sessions on the demo's own database, then a report. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const path = resolve(options.path);
  refuseOtherData(path);
  const store = await openStore({ path });
  await store.memory
    .add({ ...DEMO_MARK, value: 'written by abathur-store demo, which may write here again', type: 'semantic' })
    .catch((error: unknown) => {
      // Marked by an earlier run.
      if (!(error instanceof StoreError && error.code === 'CONFLICT')) throw error;
    });
  const run = Date.now().toString(36);
  const errorSamples: string[] = [];
  let errors = 0;
  const shared: Progress = {
    turns: 0,
    onError(error) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? `${(error as { code?: string }).code ?? ''} ${error.message}` : String(error));
    },
  };
  options.out(`abathur-store demo: ${options.sessions} agent sessions for ${options.durationMs / 1000} s on ${path} (${store.stats().readers} readers)`);
  const eld = new EventLoopDelay();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const width = 40;
  let lastLine = 0;
  const progress = setInterval(() => {
    const done = Math.min(1, (performance.now() - started) / options.durationMs);
    const text = `[${'#'.repeat(Math.round(done * width)).padEnd(width)}] ${Math.round(done * 100)}%  ${shared.turns} turns  ${errors} errors`;
    if (options.interactive) process.stdout.write(`\r${text}`);
    else if (performance.now() - lastLine > 5000) {
      lastLine = performance.now();
      options.out(text);
    }
  }, 200);
  eld.start();
  engineOf(store).resetStats();
  let turns: number;
  let sessions: { sessionId: string; turns: number }[];
  try {
    const settled = await Promise.all(
      Array.from({ length: options.sessions }, (_, i) =>
        runSession(store, i, run, deadline, options, shared).catch((e: unknown) => (shared.onError(e), undefined)),
      ),
    );
    sessions = settled.filter((s) => s !== undefined);
    turns = sessions.reduce((sum, s) => sum + s.turns, 0);
  } finally {
    clearInterval(progress);
    eld.stop();
  }
  if (options.interactive) process.stdout.write('\n');
  const durationMs = performance.now() - started;
  const stats = store.stats();
  // Every turn appended one event (a turn whose reads failed appended none and counted an error).
  const eventCounts = await Promise.all(
    sessions.map(async ({ sessionId, turns: sessionTurns }) => ({
      sessionId,
      turns: sessionTurns,
      eventCount: (await store.sessions.get(sessionId, { lastEvents: 0 }))?.eventCount ?? 0,
    })),
  );
  const check = await store.check();
  await store.close();
  const result: DemoResult = {
    ok: errors === 0 && check.ok,
    turns,
    errors,
    errorSamples,
    latency: stats.latency,
    durationMs,
    eventLoopDelay: eld.summary(),
    peakWalBytes: stats.wal.peakBytes,
    checkOk: check.ok,
    eventCounts,
  };
  options.out(report(result, options));
  options.out(`\n${formatCheckReport(check)}`);
  return result;
}
