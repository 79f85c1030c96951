#!/usr/bin/env node
// Reads what bench/device-run.sh left in a folder (one CompareResult JSON per comparison,
// limit.txt) and writes summary.json and summary.md: one before/after table per goal of
// issue 12, every figure beside its baseline from the same invocation.
//   node dist/bench/device-summary.js OUT_DIR
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompareResult } from './run-bench.js';
import type { LoadResult, OpName } from './workload.js';

type Summary = CompareResult['summary'][string];

const dir = process.argv[2] ?? '.';

function load(name: string): CompareResult | undefined {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CompareResult) : undefined;
}

const fmt = {
  int: (n: number | undefined): string => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US')),
  x: (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? '-' : `${n.toFixed(2)}x`),
  us: (n: number | undefined | null): string => (n === undefined || n === null ? '-' : n >= 10_000 ? `${(n / 1000).toFixed(1)} ms` : `${Math.round(n)} µs`),
  cpu: (n: number | undefined | null): string => (n === undefined || n === null ? '-' : `${n.toFixed(1)} µs`),
  mib: (n: number | undefined): string => (n === undefined ? '-' : `${(n / 2 ** 20).toFixed(1)} MiB`),
};

const div = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const latency = (s: Summary | undefined, op: OpName): LoadResult['latency'][OpName] => s?.median.latency[op];

function mdTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const sections: string[] = [];
const json: Record<string, unknown> = {};
const first = readdirSync(dir).find((f) => f.endsWith('.json') && f !== 'summary.json');
const machine = first === undefined ? undefined : (JSON.parse(readFileSync(join(dir, first), 'utf8')) as CompareResult).machine;
if (machine !== undefined) {
  sections.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}.`);
  json.machine = machine;
}
const config = (r: CompareResult): string =>
  `${r.config.sessions} callers, ${r.config.readers} readers, ${r.config.durationMs / 1000} s × ${r.config.trials} trials (median), think ${String(r.config.think)}`;

// Goal 1: the writer against its single-connection ceiling.
const write = load('write');
if (write !== undefined) {
  const limit = write.summary['writer-limit'];
  const rows = (['before', 'facade'] as const).map((name) => {
    const s = write.summary[name];
    return [
      name === 'facade' ? 'after' : 'before',
      fmt.int(s?.throughput),
      fmt.x(div(s?.throughput, limit?.throughput)),
      fmt.cpu(s?.median.cpu?.threadsUs?.[0]),
      fmt.x(div(limit?.median.cpu?.callerUs ?? undefined, s?.median.cpu?.threadsUs?.[0])),
      fmt.us(latency(s, 'recordMetric')?.p50),
      fmt.us(latency(s, 'recordMetric')?.p99),
      String(s?.median.batches?.write.mean ?? '-'),
    ];
  });
  rows.push(['writer-limit', fmt.int(limit?.throughput), '1.00x', fmt.cpu(limit?.median.cpu?.callerUs), '1.00x', '-', '-', '64']);
  sections.push(
    `## 1. Writer at its ceiling (audited metric writes; ${config(write)})\n\n` +
      mdTable(['system', 'writes/s', 'vs writer-limit', 'writer thread CPU/write', 'limit CPU / writer CPU', 'p50', 'p99', 'writes per commit'], rows),
  );
  json.writer = { before: write.summary.before?.throughput, after: write.summary.facade?.throughput, limit: limit?.throughput };
}

// Goal 2: commit latency under the saturating mix.
const mixed = load('mixed-saturating');
if (mixed !== undefined) {
  const rows = (['before', 'facade', 'direct'] as const).map((name) => {
    const s = mixed.summary[name];
    const append = latency(s, 'appendEvent');
    return [
      name === 'facade' ? 'after' : name,
      fmt.int(s?.throughput),
      fmt.x(s?.vsDirect),
      fmt.us(append?.p50),
      fmt.us(append?.p99),
      fmt.x(div(append?.p99, append?.p50)),
      `${s?.median.eventLoopDelay.p99 ?? '-'} ms`,
      fmt.mib(s?.median.walPeakBytes),
    ];
  });
  sections.push(
    `## 2. Commit latency (mixed load, saturating; ${config(mixed)})\n\n` +
      mdTable(['system', 'ops/s', 'vs direct', 'appendEvent p50', 'appendEvent p99', 'p99 / p50', 'event-loop p99', 'WAL peak'], rows),
  );
  json.commitLatency = Object.fromEntries(
    (['before', 'facade', 'direct'] as const).map((n) => [n, { p50: latency(mixed.summary[n], 'appendEvent')?.p50, p99: latency(mixed.summary[n], 'appendEvent')?.p99 }]),
  );
}

// Goal 3: point reads against direct better-sqlite3.
const readRows: string[][] = [];
for (const name of ['read-256', 'read-64']) {
  const r = load(name);
  if (r === undefined) continue;
  for (const system of ['before', 'facade', 'direct'] as const) {
    const s = r.summary[system];
    readRows.push([
      `${r.config.sessions}`,
      system === 'facade' ? 'after' : system,
      fmt.int(s?.throughput),
      fmt.x(s?.vsDirect),
      fmt.cpu(s?.median.cpu?.callerUs),
      fmt.us(latency(s, 'getSession')?.p99),
      String(s?.median.batches?.read.mean ?? '-'),
    ]);
  }
  json[name] = { before: r.summary.before?.vsDirect, after: r.summary.facade?.vsDirect };
}
if (readRows.length > 0) {
  sections.push(
    `## 3. Point reads vs direct better-sqlite3 (${load('read-256')?.config.readers ?? load('read-64')?.config.readers} readers)\n\n` +
      mdTable(['callers', 'system', 'reads/s', 'vs direct', 'caller CPU/read', 'p99', 'reads per batch'], readRows),
  );
}

// Goal 4: point-read tails under the paced mix.
const paced = load('paced');
if (paced !== undefined) {
  const rows = (['before', 'facade', 'direct'] as const).map((name) => {
    const s = paced.summary[name];
    return [
      name === 'facade' ? 'after' : name,
      fmt.int(s?.throughput),
      `${fmt.us(latency(s, 'getSession')?.p50)} / ${fmt.us(latency(s, 'getSession')?.p99)}`,
      `${fmt.us(latency(s, 'getMemory')?.p50)} / ${fmt.us(latency(s, 'getMemory')?.p99)}`,
      `${fmt.us(latency(s, 'context')?.p50)} / ${fmt.us(latency(s, 'context')?.p99)}`,
      `${fmt.us(latency(s, 'appendEvent')?.p50)} / ${fmt.us(latency(s, 'appendEvent')?.p99)}`,
      `${s?.median.eventLoopDelay.p99 ?? '-'} ms`,
    ];
  });
  sections.push(
    `## 4. Tails (mixed load, paced; ${config(paced)})\n\n` +
      mdTable(['system', 'ops/s', 'session read p50 / p99', 'memory read p50 / p99', 'context p50 / p99', 'append p50 / p99', 'event-loop p99'], rows),
  );
  json.tails = { before: latency(paced.summary.before, 'getSession'), after: latency(paced.summary.facade, 'getSession') };
}

// Goal 5: context synthesis against reader threads.
const heavy = readdirSync(dir)
  .map((f) => /^heavy-(\d+)\.json$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ readers: Number(m[1]), result: load(`heavy-${m[1]}`)! }))
  .sort((a, b) => a.readers - b.readers);
if (heavy.length > 0) {
  const one = heavy.find((h) => h.readers === 1)?.result;
  const rows = heavy.map(({ readers, result }) => {
    const b = result.summary.before;
    const a = result.summary.facade;
    return [
      String(readers),
      fmt.int(b?.throughput),
      fmt.x(div(b?.throughput, one?.summary.before?.throughput)),
      fmt.int(a?.throughput),
      fmt.x(div(a?.throughput, one?.summary.facade?.throughput)),
      fmt.cpu(a?.median.cpu?.callerUs),
      fmt.cpu(a?.median.cpu?.threadsUs?.[0]),
    ];
  });
  sections.push(
    `## 5. Heavy reads (context synthesis, ${heavy[0]!.result.config.sessions} callers)\n\n` +
      mdTable(['readers', 'before ctx/s', 'before vs 1 reader', 'after ctx/s', 'after vs 1 reader', 'after caller CPU/ctx', 'after busiest reader CPU/ctx'], rows) +
      '\n\nThe caller\'s thread materialises every result; its CPU per context bounds the scaling at about (one reader\'s CPU per context) / (caller CPU per context).',
  );
  json.heavy = heavy.map(({ readers, result }) => ({ readers, before: result.summary.before?.throughput, after: result.summary.facade?.throughput }));
}

// The hardware's read ceiling.
const limitFile = join(dir, 'limit.txt');
if (existsSync(limitFile)) {
  const lines = readFileSync(limitFile, 'utf8').split('\n').filter((l) => l.startsWith('limit '));
  const points = lines.map((l) => ({ threads: Number(/threads=(\d+)/.exec(l)?.[1]), readsPerSecond: Number(/reads\/s=(\d+)/.exec(l)?.[1]) }));
  sections.push(`## Read ceiling (raw threads, tight loop)\n\n${mdTable(['threads', 'reads/s'], points.map((p) => [String(p.threads), fmt.int(p.readsPerSecond)]))}`);
  json.limit = points;
}

writeFileSync(join(dir, 'summary.md'), `${sections.join('\n\n')}\n`);
writeFileSync(join(dir, 'summary.json'), JSON.stringify(json, null, 2));
process.stdout.write(`${sections.join('\n\n')}\n`);
