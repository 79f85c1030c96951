// The growth sweep: how the cost of an operation changes as the history it works on
// grows. For each thing that grows without bound — a session's event log, a memory key's
// versions, the audit table, a task's checkpoints — the data is made directly (bulk
// inserts, so 100k events take seconds) at each size, and the same calls are timed one
// at a time through the store (`facade`: threads, one caller) and on a connection on this
// thread (`direct`: the store's own statements, each write its own transaction). Every
// figure is read against the same run's 1k point (the first point for the others).
// Then 63 sessions run the mixed load beside a 64th appending to a 100k-event session,
// against the same run with the 64th appending to a short one.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore, type Store } from '../src/index.js';
import { openWriterConnection, type Connection, type OperationCall, type Synchronous } from '../src/internal.js';
import { barChart, lineChart, type Series } from './charts.js';
import { catalogueConnection } from './catalogue-connection.js';
import { int, median, ratio, runTrial, table } from './report.js';
import type { SeedInfo } from './seed.js';
import { MIXES, WRITE_OPERATIONS, type LoadResult, type Think } from './workload.js';

export interface GrowthOptions {
  /** Scratch directory for the databases. */
  dir: string;
  /** The seeded template (sessions, memory, tasks) the load trials run on. */
  seed: SeedInfo;
  out: string;
  synchronous: Synchronous;
  readers: number;
  durationMs: number;
  think: Think;
  trials: number;
  /** Multiplies every size and call count: 1 is the full sweep, 0.01 a smoke run. */
  scale: number;
  progress?: (line: string) => void;
}

const MiB = 1 << 20;
/** An event of about 1 KB, as the issue measured them. */
const EVENT_BYTES = 1024;
const EVENT_TEXT = 'x'.repeat(EVENT_BYTES - 60);
const eventJson = (n: number): string => JSON.stringify({ role: 'tool', n, text: EVENT_TEXT });

/** Latency percentiles of one point, microseconds. */
interface Point {
  x: number;
  count: number;
  mean: number;
  p50: number;
  p99: number;
}

/** One measured operation at each size, on one path. */
interface Curve {
  name: string;
  path: 'facade' | 'direct';
  points: Point[];
}

function summarize(x: number, samples: number[]): Point {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { x, count: sorted.length, mean: Math.round(mean), p50: Math.round(at(50)), p99: Math.round(at(99)) };
}

/** Times `n` calls one after another; microseconds each. Any failure stops the sweep. */
async function time(n: number, call: (i: number) => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call(i);
    samples.push((performance.now() - started) * 1000);
  }
  return samples;
}

/** A curve per operation and path, its samples gathered over interleaved rounds. */
class Curves {
  readonly #samples = new Map<string, Map<number, number[]>>();

  add(name: string, path: 'facade' | 'direct', x: number, samples: readonly number[]): void {
    const key = `${name}\u0000${path}`;
    let byX = this.#samples.get(key);
    if (byX === undefined) this.#samples.set(key, (byX = new Map<number, number[]>()));
    byX.set(x, [...(byX.get(x) ?? []), ...samples]);
  }

  list(): Curve[] {
    return [...this.#samples].map(([key, byX]) => {
      const [name, path] = key.split('\u0000') as [string, 'facade' | 'direct'];
      return { name, path, points: [...byX].sort(([a], [b]) => a - b).map(([x, samples]) => summarize(x, samples)) };
    });
  }
}

/** Runs one call on the direct connection; the result is discarded, a failure throws. */
type Direct = (call: OperationCall) => unknown;

interface Sizes {
  events: number[];
  versions: number[];
  checkpoints: number[];
  audit: number[];
  calls: number;
}

function sizesFor(scale: number): Sizes {
  const scaled = (values: number[]): number[] => values.map((v) => (v === 0 ? 0 : Math.max(1, Math.round(v * scale))));
  return {
    events: scaled([0, 1000, 10_000, 100_000]),
    versions: scaled([1, 1000, 10_000]),
    checkpoints: scaled([1, 1000, 10_000]),
    audit: scaled([10_000, 100_000, 1_000_000]),
    calls: Math.max(20, Math.round(400 * Math.min(1, scale * 10))),
  };
}

const appendSession = (size: number): string => `growth-append-${size}`;
const readSession = (size: number): string => `growth-read-${size}`;
// A key with that many versions, alone with ten one-version keys in a user's scope, so
// memory.context reads it as an orchestrator's turn does.
const memoryUser = (versions: number): string => `growth-v${versions}`;
const memoryNamespace = (versions: number): string => `user:${memoryUser(versions)}`;
const MEMORY_KEY = 'k';
const checkpointTask = (n: number): string => `growth-checkpoints-${n}`;
// Audit rows are spread over 100 tasks and 100 namespaces, half of each namespace's rows
// in its child namespaces (`growth:ns7:sub3`), so a prefix query reads both of its ranges
// and every point's first page is a full page of 50.
const AUDIT_KEYS = 100;
const auditTask = (i: number): string => `growth-audit-${i % AUDIT_KEYS}`;
const auditNamespace = (i: number): string => `growth:ns${i % AUDIT_KEYS}${i % 2 === 0 ? '' : `:sub${(i >> 1) % 5}`}`;
const AUDIT_PREFIX = 'growth:ns7';

/**
 * The sessions, memory keys and checkpoints of every size, written directly in one
 * transaction: an append session and a read session per size (reads see exactly that
 * many events; appends start from it).
 */
function populate(db: Connection, sizes: Sizes): void {
  db.transaction(() => {
    const session = db.prepare("INSERT INTO sessions (id, app_name, user_id, status, event_count) VALUES (?, 'growth', 'bench', 'active', ?)");
    const event = db.prepare('INSERT INTO session_events (session_id, seq, event, created_at) VALUES (?, ?, ?, ?)');
    for (const size of sizes.events) {
      for (const id of [appendSession(size), readSession(size)]) {
        session.run(id, size);
        for (let seq = 1; seq <= size; seq++) event.run(id, seq, eventJson(seq), new Date(Date.UTC(2026, 0, 1) + seq).toISOString());
      }
    }
    const memory = db.prepare(
      "INSERT INTO memory_entries (namespace, key, value, memory_type, version, created_by) VALUES (?, ?, ?, 'semantic', ?, 'bench')",
    );
    for (const versions of sizes.versions) {
      for (let v = 1; v <= versions; v++) memory.run(memoryNamespace(versions), MEMORY_KEY, JSON.stringify({ fact: 'a fact of about a hundred bytes, revised', v }), v);
      for (let k = 0; k < 10; k++) memory.run(memoryNamespace(versions), `other${k}`, JSON.stringify({ fact: `fact ${k}` }), 1);
    }
    const task = db.prepare("INSERT INTO tasks (id, prompt, input_data, status) VALUES (?, 'growth', '{}', 'completed')");
    const checkpoint = db.prepare('INSERT INTO checkpoints (task_id, iteration, state) VALUES (?, ?, ?)');
    for (const n of sizes.checkpoints) {
      task.run(checkpointTask(n));
      for (let i = 0; i < n; i++) checkpoint.run(checkpointTask(n), i, JSON.stringify({ step: i, cursor: i * 10 }));
    }
    for (let i = 0; i < AUDIT_KEYS; i++) task.run(auditTask(i));
  })();
  db.exec('ANALYZE');
}

/**
 * Grows the audit table to `rows` (see AUDIT_KEYS), one millisecond apart, as real rows
 * are (rows sharing a timestamp would be sorted by id).
 */
function growAudit(db: Connection, rows: number): void {
  const have = db.prepare('SELECT count(*) FROM audit').pluck().get() as number;
  const start = Date.UTC(2025, 0, 1);
  const insert = db.prepare(
    "INSERT INTO audit (timestamp, task_id, action_type, action_data, result, memory_operation_type, memory_namespace) VALUES (?, ?, 'memory_update', ?, 'ok', 'update', ?)",
  );
  const batch = 50_000;
  for (let from = have; from < rows; from += batch) {
    db.transaction(() => {
      for (let i = from; i < Math.min(rows, from + batch); i++) {
        insert.run(new Date(start + i).toISOString(), auditTask(i), JSON.stringify({ key: `k${i}` }), auditNamespace(i));
      }
    })();
  }
  db.exec('ANALYZE');
}

/** Opens the store and a direct connection in turn, and runs `round` on each path. */
async function onBothPaths(
  path: string,
  synchronous: Synchronous,
  readers: number,
  round: (facade: Store | undefined, direct: Direct | undefined) => Promise<void>,
): Promise<void> {
  const direct = catalogueConnection(path, synchronous);
  try {
    await round(undefined, direct.run);
  } finally {
    direct.db.close();
  }
  const store = await openStore({ path, synchronous, readers, maxQueue: 1_000_000 });
  try {
    await round(store, undefined);
  } finally {
    await store.close();
  }
}

async function eventCurves(path: string, options: GrowthOptions, sizes: Sizes, curves: Curves): Promise<void> {
  const appendCalls = sizes.calls;
  const readCalls = sizes.calls * 2;
  let appended = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    await onBothPaths(path, options.synchronous, options.readers, async (store, direct) => {
      const p = store === undefined ? 'direct' : 'facade';
      // Sizes interleaved within each trial, so drift in the machine spreads over all of them.
      for (const size of sizes.events) {
        const id = appendSession(size);
        curves.add('append', p, size, await time(appendCalls, (i) => {
          const n = ++appended;
          const eventId = `e${n}`;
          return store === undefined
            ? direct!(['sessions.appendEvent', [id, eventJson(n), eventId, `{"step":${i}}`, MiB, undefined]])
            : store.sessions.appendEvent(id, { role: 'tool', n, text: EVENT_TEXT }, { eventId, stateDelta: { step: i } });
        }));
        const rid = readSession(size);
        curves.add('lastEvents(20)', p, size, await time(readCalls, () =>
          store === undefined ? direct!(['sessions.get', [rid, 20, null]]) : store.sessions.get(rid, { lastEvents: 20 }),
        ));
        const after = Math.floor(size / 2);
        curves.add('events() page of 50', p, size, await time(readCalls, () =>
          store === undefined
            ? direct!(['sessions.events', [rid, after, Number.MAX_SAFE_INTEGER, 50, 'asc', null]])
            : store.sessions.events(rid, { afterSeq: after, limit: 50 }),
        ));
      }
    });
    options.progress?.(`  event log: trial ${trial + 1}/${options.trials} done`);
  }
}

async function memoryAndCheckpointCurves(path: string, options: GrowthOptions, sizes: Sizes, curves: Curves): Promise<void> {
  let updates = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    await onBothPaths(path, options.synchronous, options.readers, async (store, direct) => {
      const p = store === undefined ? 'direct' : 'facade';
      for (const versions of sizes.versions) {
        const ns = memoryNamespace(versions);
        curves.add('memory.get (current)', p, versions, await time(sizes.calls * 2, () =>
          store === undefined ? direct!(['memory.get', [ns, MEMORY_KEY, null]]) : store.memory.get(ns, MEMORY_KEY),
        ));
        curves.add('memory.update', p, versions, await time(sizes.calls, () => {
          const value = { fact: 'revised again', n: ++updates };
          return store === undefined
            ? direct!(['memory.update', [ns, MEMORY_KEY, JSON.stringify(value), null, null, null, undefined]])
            : store.memory.update(ns, MEMORY_KEY, value);
        }));
        curves.add('memory.history (first page)', p, versions, await time(sizes.calls * 2, () =>
          store === undefined ? direct!(['memory.history', [ns, MEMORY_KEY, 50, null]]) : store.memory.history(ns, MEMORY_KEY),
        ));
        // Not in the issue's list, measured because it is every turn's read: the newest live
        // version of each key of four scopes.
        const user = memoryUser(versions);
        curves.add('memory.context', p, versions, await time(sizes.calls, () =>
          store === undefined
            ? direct!(['memory.context', ['growth-none', user, 'growth', null, 1000]])
            : store.memory.context({ sessionId: 'growth-none', userId: user, appName: 'growth' }),
        ));
      }
      for (const n of sizes.checkpoints) {
        const task = checkpointTask(n);
        curves.add('checkpoints.latest', p, n, await time(sizes.calls * 2, () =>
          store === undefined ? direct!(['checkpoints.latest', [task]]) : store.checkpoints.latest(task),
        ));
      }
    });
  }
  options.progress?.('  memory versions and checkpoints done');
}

async function auditCurves(path: string, options: GrowthOptions, sizes: Sizes, curves: Curves): Promise<void> {
  for (const rows of sizes.audit) {
    const db = openWriterConnection(path, { synchronous: options.synchronous, busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
    growAudit(db, rows);
    db.close();
    for (let trial = 0; trial < options.trials; trial++) {
      await onBothPaths(path, options.synchronous, options.readers, async (store, direct) => {
        const p = store === undefined ? 'direct' : 'facade';
        const task = auditTask(7);
        const prefix = AUDIT_PREFIX;
        curves.add('audit.list by task', p, rows, await time(sizes.calls * 2, () =>
          store === undefined ? direct!(['audit.list', [{ by: 'task', value: task }, null, 50, null]]) : store.audit.list({ taskId: task }),
        ));
        curves.add('audit.list by namespace prefix', p, rows, await time(sizes.calls * 2, () =>
          store === undefined
            ? direct!(['audit.list', [{ by: 'namespacePrefix', value: prefix }, null, 50, null]])
            : store.audit.list({ namespacePrefix: prefix }),
        ));
      });
    }
    options.progress?.(`  audit at ${int(rows)} rows done`);
  }
}

interface BesideLong {
  /** Median over trials of the 63 sessions' writes per second. */
  withLong: number;
  withShort: number;
  ratio: number;
  trials: { withLong: number[]; withShort: number[] };
  appender: { long: LoadResult['appender']; short: LoadResult['appender'] };
}

const writesPerSecond = (r: LoadResult): number =>
  WRITE_OPERATIONS.reduce((sum, op) => sum + (r.latency[op]?.count ?? 0), 0) / (r.durationMs / 1000);

/**
 * 63 sessions on the mixed load while a 64th appends 1 KB events without pause: to a
 * session of 100k events, then (the baseline) to a new one. Trials interleaved.
 */
async function besideLongSession(options: GrowthOptions, longEvents: number): Promise<BesideLong> {
  const template = join(options.dir, 'beside-template.db');
  copyFileSync(options.seed.path, template);
  const db = openWriterConnection(template, { synchronous: options.synchronous, busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
  db.transaction(() => {
    const session = db.prepare("INSERT INTO sessions (id, app_name, user_id, status, event_count) VALUES (?, 'growth', 'bench', 'active', ?)");
    session.run('growth-long', longEvents);
    session.run('growth-short', 0);
    const event = db.prepare('INSERT INTO session_events (session_id, seq, event) VALUES (?, ?, ?)');
    for (let seq = 1; seq <= longEvents; seq++) event.run('growth-long', seq, eventJson(seq));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const seed = { ...options.seed, path: template };
  const results: { long: LoadResult[]; short: LoadResult[] } = { long: [], short: [] };
  let runId = 1_000;
  for (let trial = 0; trial < options.trials; trial++) {
    // ABBA: neither variant always runs first.
    for (const which of trial % 2 === 0 ? (['long', 'short'] as const) : (['short', 'long'] as const)) {
      const result = await runTrial({
        system: 'facade',
        template,
        path: join(options.dir, 'beside.db'),
        seed,
        sessions: 63,
        readers: options.readers,
        durationMs: options.durationMs,
        mix: MIXES.mixed!,
        think: options.think,
        synchronous: options.synchronous,
        runId: runId++,
        appender: { sessionId: which === 'long' ? 'growth-long' : 'growth-short', eventBytes: EVENT_BYTES },
      });
      if (result.errors > 0 || (result.appender?.errors ?? 0) > 0) throw new Error(`beside-long trial failed: ${result.errorSamples.join('; ')}`);
      results[which].push(result);
      options.progress?.(`  63 sessions beside a ${which} session: ${int(writesPerSecond(result))} writes/s (trial ${trial + 1})`);
    }
  }
  const withLong = median(results.long.map(writesPerSecond));
  const withShort = median(results.short.map(writesPerSecond));
  const middle = (list: LoadResult[]): LoadResult => [...list].sort((a, b) => writesPerSecond(a) - writesPerSecond(b))[(list.length - 1) >> 1]!;
  return {
    withLong,
    withShort,
    ratio: withLong / withShort,
    trials: { withLong: results.long.map(writesPerSecond), withShort: results.short.map(writesPerSecond) },
    appender: { long: middle(results.long).appender, short: middle(results.short).appender },
  };
}

const label = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
const us = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)} ms` : `${n} µs`);

/** A table per curve group: each point's mean, p50 and p99, and p50 and p99 against the baseline point. */
function curveTable(curves: readonly Curve[], baseline: number, xName: string): string {
  const rows = [[`operation (path)`, xName, 'mean', 'p50', 'p99', `p50 vs ${label(baseline)}`, `p99 vs ${label(baseline)}`]];
  for (const curve of curves) {
    const base = curve.points.find((p) => p.x === baseline) ?? curve.points[0]!;
    for (const p of curve.points) {
      rows.push([`${curve.name} (${curve.path})`, label(p.x), us(p.mean), us(p.p50), us(p.p99), ratio(p.p50, base.p50), ratio(p.p99, base.p99)]);
    }
  }
  return table(rows);
}

function chart(out: string, file: string, title: string, xLabel: string, curves: readonly Curve[]): void {
  // One color per curve: p50 solid, p99 dashed.
  const series: Series[] = curves.flatMap((c, i) => [
    { name: `${c.name}, ${c.path}, p50`, color: i, points: c.points.map((p) => [p.x, p.p50] as const) },
    { name: `${c.name}, ${c.path}, p99`, color: i, dashed: true, points: c.points.map((p) => [p.x, p.p99] as const) },
  ]);
  // Logarithmic: p50s of tens of microseconds and p99s of milliseconds on one chart.
  writeFileSync(join(out, file), lineChart({ title, xLabel, yLabel: 'latency (µs, log scale)', series, categoricalX: true, logY: true }));
}

/** What the sweep measured, as written to JSON. */
export interface GrowthResults {
  sizes: Sizes;
  curves: { events: Curve[]; memory: Curve[]; checkpoints: Curve[]; audit: Curve[] };
  besideLong: BesideLong;
}

/** The sweep's charts, from its results (so they can be redrawn from a run's JSON). */
export function writeGrowthCharts(out: string, results: GrowthResults): void {
  const { events, memory, checkpoints, audit } = results.curves;
  const named = (name: string): Curve[] => events.filter((c) => c.name === name);
  chart(out, 'growth-append.svg', 'Append cost vs events already in the session (1 KB events)', 'events in the session', named('append'));
  chart(out, 'growth-session-reads.svg', 'lastEvents(20) and one events() page vs session length', 'events in the session', [
    ...named('lastEvents(20)'),
    ...named('events() page of 50'),
  ]);
  chart(out, 'growth-memory.svg', 'Memory operations vs versions of the key', 'versions of the key', memory);
  chart(out, 'growth-checkpoints.svg', 'checkpoints.latest vs checkpoints of the task', 'checkpoints of the task', checkpoints);
  chart(out, 'growth-audit.svg', 'audit.list (first page) vs rows in the audit table', 'audit rows', audit);
  const longest = results.sizes.events[results.sizes.events.length - 1]!;
  writeFileSync(
    join(out, 'growth-beside-long.svg'),
    barChart({
      title: "63 sessions' writes per second beside a 64th appending",
      yLabel: 'writes / s (median of trials)',
      bars: [
        { name: 'beside a new session', value: results.besideLong.withShort },
        { name: `beside ${label(longest)} events`, value: results.besideLong.withLong },
      ],
    }),
  );
}

export async function growthSweep(options: GrowthOptions): Promise<{ json: unknown; text: string }> {
  const sizes = sizesFor(options.scale);
  const path = join(options.dir, 'growth.db');
  copyFileSync(options.seed.path, path);
  const db = openWriterConnection(path, { synchronous: options.synchronous, busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
  const started = performance.now();
  populate(db, sizes);
  growAudit(db, sizes.audit[0]!);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  options.progress?.(`  populated in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const events = new Curves();
  await eventCurves(path, options, sizes, events);
  const others = new Curves();
  await memoryAndCheckpointCurves(path, options, sizes, others);
  const audit = new Curves();
  await auditCurves(path, options, sizes, audit);
  const beside = await besideLongSession(options, sizes.events[sizes.events.length - 1]!);

  const eventCurveList = events.list();
  const memoryCurves = others.list().filter((c) => c.name.startsWith('memory'));
  const checkpointCurves = others.list().filter((c) => c.name.startsWith('checkpoints'));
  const auditCurveList = audit.list();
  const one = (name: string): Curve[] => eventCurveList.filter((c) => c.name === name);
  const baselineEvents = sizes.events[1]!;
  const results: GrowthResults = {
    sizes,
    curves: { events: eventCurveList, memory: memoryCurves, checkpoints: checkpointCurves, audit: auditCurveList },
    besideLong: beside,
  };
  writeGrowthCharts(options.out, results);

  const targetOf = (curve: Curve | undefined, x: number): Point | undefined => curve?.points.find((p) => p.x === x);
  const longest = sizes.events[sizes.events.length - 1]!;
  const appendRatio = (path: 'facade' | 'direct', key: 'p50' | 'p99'): number => {
    const curve = one('append').find((c) => c.path === path);
    return targetOf(curve, longest)![key] / targetOf(curve, baselineEvents)![key];
  };
  const readP99 = (name: string, path: 'facade' | 'direct'): number => targetOf(one(name).find((c) => c.path === path), longest)!.p99;
  const summary = [
    ['target', 'measured', ''],
    [`append at ${label(longest)} within 1.3x of ${label(baselineEvents)} (p50)`, `facade ${appendRatio('facade', 'p50').toFixed(2)}x, direct ${appendRatio('direct', 'p50').toFixed(2)}x`, appendRatio('facade', 'p50') <= 1.3 && appendRatio('direct', 'p50') <= 1.3 ? 'met' : 'missed'],
    [`  the same at p99`, `facade ${appendRatio('facade', 'p99').toFixed(2)}x, direct ${appendRatio('direct', 'p99').toFixed(2)}x`, ''],
    [`lastEvents(20) p99 < 1 ms at ${label(longest)}`, `facade ${us(readP99('lastEvents(20)', 'facade'))}, direct ${us(readP99('lastEvents(20)', 'direct'))}`, readP99('lastEvents(20)', 'facade') < 1000 ? 'met' : 'missed'],
    [`one events() page p99 < 1 ms at ${label(longest)}`, `facade ${us(readP99('events() page of 50', 'facade'))}, direct ${us(readP99('events() page of 50', 'direct'))}`, readP99('events() page of 50', 'facade') < 1000 ? 'met' : 'missed'],
    [`63 sessions' writes beside a ${label(longest)}-event session >= 0.9x`, `${beside.ratio.toFixed(2)}x (${int(beside.withLong)} vs ${int(beside.withShort)} writes/s)`, beside.ratio >= 0.9 ? 'met' : 'missed'],
  ];
  const besideRows = [
    ['64th session appends to', "63 sessions' writes/s (median)", 'trials', 'appender calls', 'appender p50', 'appender p99'],
    ['a new session (baseline)', int(beside.withShort), beside.trials.withShort.map(int).join(', '), int(beside.appender.short?.count ?? 0), us(beside.appender.short?.p50 ?? 0), us(beside.appender.short?.p99 ?? 0)],
    [`a ${label(longest)}-event session`, int(beside.withLong), beside.trials.withLong.map(int).join(', '), int(beside.appender.long?.count ?? 0), us(beside.appender.long?.p50 ?? 0), us(beside.appender.long?.p99 ?? 0)],
  ];
  const text = [
    `growth sweep (one caller; facade = the store through its threads, direct = the same statements on one connection; ${options.trials} interleaved trials)`,
    '',
    `event log, 1 KB events (append carries an eventId and a state delta); ratios to ${label(baselineEvents)}:`,
    curveTable(eventCurveList, baselineEvents, 'events'),
    '',
    'memory versions of one key (and memory.context of the scope holding it); ratios to 1 version:',
    curveTable(memoryCurves, sizes.versions[0]!, 'versions'),
    '',
    'checkpoints of one task; ratios to 1 checkpoint:',
    curveTable(checkpointCurves, sizes.checkpoints[0]!, 'checkpoints'),
    '',
    `audit rows (${AUDIT_KEYS} tasks and ${AUDIT_KEYS} namespace prefixes share them: the queried task and prefix hold 1% each); ratios to ${label(sizes.audit[0]!)}:`,
    curveTable(auditCurveList, sizes.audit[0]!, 'audit rows'),
    '',
    `63 sessions on the mixed load (${options.durationMs / 1000} s per trial) beside a 64th appending 1 KB events without pause:`,
    table(besideRows),
    '',
    table(summary),
    '',
    'charts: growth-append.svg, growth-session-reads.svg, growth-memory.svg, growth-checkpoints.svg, growth-audit.svg, growth-beside-long.svg',
  ].join('\n');
  return { json: results, text };
}

