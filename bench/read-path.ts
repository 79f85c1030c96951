// The read path on the caller's thread (issue 22, items 1 and 4), this build against another
// (`--before DIR`, the root of a built checkout), each trial in its own process, the two
// builds alternating, medians reported:
//   point  64 callers of sessions.get (a ~400-byte session row with one event): the caller's
//          CPU per read, from the main thread's own clock (bench/cpu.ts);
//   tuple  64 callers of AbathurSaver.getTuple on 256 LangGraph threads of one checkpoint each
//          (its values held in the saver's cache after the first read, as in a running graph):
//          the caller's CPU per getTuple;
//   large  one caller reading a session of --events events again and again: the event
//          loop's delay (how late a 1 ms timer fires: what one macrotask held the loop), and
//          the caller's CPU per read;
// then the result encodings compared on this thread: structured clone (what the readers
// send), JSON text, and JSON in a transferred buffer, for typical answers and a large one.
//
//   node dist/bench/read-path.js --before DIR [--trials 5] [--duration 4] [--events 5000]
//        [--only point,tuple,large,encoding]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { threadCpuNs } from './cpu.js';
import { median } from './report.js';
import { seedDatabase, sessionIdOf } from './seed.js';
import type { openStore } from '../src/index.js';
import type { AbathurSaver } from '../src/langgraph/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** This build's root: dist/bench/ is two levels down. */
const THIS_ROOT = resolve(HERE, '..', '..');

type Task = 'point' | 'tuple' | 'large';

interface ChildConfig {
  task: Task;
  root: string;
  durationMs: number;
  callers: number;
  events: number;
}

interface ChildResult {
  reads: number;
  readsPerSecond: number;
  callerUs: number;
  /** Event-loop delay (a 1 ms timer's lateness), max and 99th percentile, ms (large only). */
  maxDelayMs?: number;
  p99DelayMs?: number;
  /** The most CPU the caller's thread spent between two firings of a 1 ms timer, ms (large only). */
  maxCpuGapMs?: number;
}

async function load(root: string): Promise<typeof openStore> {
  const entry = pathToFileURL(join(root, 'dist', 'src', 'index.js')).href;
  return ((await import(entry)) as { openStore: typeof openStore }).openStore;
}

async function loadSaver(root: string): Promise<typeof AbathurSaver> {
  const entry = pathToFileURL(join(root, 'dist', 'src', 'langgraph', 'index.js')).href;
  return ((await import(entry)) as { AbathurSaver: typeof AbathurSaver }).AbathurSaver;
}

/** Callers of getTuple, each yielding to the loop before its call, for `durationMs` after a 1 s warm-up. */
async function tuples(store: Awaited<ReturnType<typeof openStore>>, root: string, config: ChildConfig): Promise<ChildResult> {
  const Saver = await loadSaver(root);
  const saver = new Saver(store);
  const threads = 256;
  for (let t = 0; t < threads; t++) {
    const values = { messages: [{ role: 'user', content: `hello ${t}` }, { role: 'ai', content: 'word '.repeat(20) }], step: t };
    const checkpoint = { v: 4, id: `1ef00000-0000-6000-8000-${String(t).padStart(12, '0')}`, ts: new Date().toISOString(), channel_values: values, channel_versions: { messages: 1, step: 1 }, versions_seen: {} };
    const config = { configurable: { thread_id: `thread-${t}`, checkpoint_ns: '' } };
    const saved = await saver.put(config, checkpoint, { source: 'loop', step: 1, parents: {} }, { messages: 1, step: 1 });
    await saver.putWrites(saved, [['messages', { role: 'ai', content: 'pending' }]], 'task-1');
  }
  return timedReads(config, async (x) => {
    const tuple = await saver.getTuple({ configurable: { thread_id: `thread-${x % threads}`, checkpoint_ns: '' } });
    if (tuple === undefined) throw new Error('no checkpoint');
  });
}

/**
 * `config.callers` callers, each yielding a turn and then calling `read` with its own
 * pseudo-random number, for a second untimed and then `config.durationMs`: reads per
 * second and the caller's thread CPU per read.
 */
async function timedReads(config: ChildConfig, read: (x: number) => Promise<void>): Promise<ChildResult> {
  let deadline = 0;
  let reads = 0;
  const caller = async (k: number): Promise<void> => {
    let x = k * 7919 + 1;
    while (performance.now() < deadline) {
      await turn();
      x = (x * 1103515245 + 12345) % 2147483648;
      await read(x);
      reads++;
    }
  };
  const run = (ms: number) => {
    deadline = performance.now() + ms;
    return Promise.all(Array.from({ length: config.callers }, (_, k) => caller(k)));
  };
  await run(1000);
  reads = 0;
  const cpu0 = threadCpuNs() ?? 0;
  const t0 = performance.now();
  await run(config.durationMs);
  const seconds = (performance.now() - t0) / 1000;
  return { reads, readsPerSecond: Math.round(reads / seconds), callerUs: ((threadCpuNs() ?? 0) - cpu0) / reads / 1000 };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function child(config: ChildConfig): Promise<ChildResult> {
  const open = await load(config.root);
  const dir = mkdtempSync(join(tmpdir(), 'abathur-read-path-'));
  try {
    const path = join(dir, 'bench.db');
    const seed = seedDatabase(path, { sessions: 2000, memoryPerScope: 4, tasks: 10 });
    // The large read with no decode cache: every read carries and decodes the whole history
    // (with the cache, a history already held is not sent again).
    const store = await open({ path, readers: 2, ...(config.task === 'large' ? { decodeCacheBytes: 0 } : {}) });
    try {
      if (config.task === 'tuple') return await tuples(store, config.root, config);
      if (config.task === 'point') {
        return await timedReads(config, async (x) => {
          await store.sessions.get(sessionIdOf(x % seed.sessions));
        });
      }
      const { id } = await store.sessions.create({ appName: 'bench', userId: 'u' });
      const text = 'word '.repeat(40);
      for (let n = 0; n < config.events; n += 1000) {
        const events = Array.from({ length: Math.min(1000, config.events - n) }, (_, i) => ({ event: { role: i % 2 ? 'model' : 'user', text, seq: n + i } }));
        await store.sessions.appendEvents(id, events);
      }
      await store.sessions.get(id);
      // A 1 ms timer's lateness: how long a macrotask held the loop when it should have fired.
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      // The same by the thread's own clock: the most CPU the thread spent between two firings
      // of a 1 ms timer. Unlike wall time it does not count waiting for a core on a busy machine.
      let maxCpuGapMs = 0;
      let lastCpu = threadCpuNs() ?? 0;
      const ticker = setInterval(() => {
        const cpu = threadCpuNs() ?? 0;
        maxCpuGapMs = Math.max(maxCpuGapMs, (cpu - lastCpu) / 1e6);
        lastCpu = cpu;
      }, 1);
      let reads = 0;
      const cpu0 = threadCpuNs() ?? 0;
      const t0 = performance.now();
      while (performance.now() - t0 < config.durationMs) {
        const session = await store.sessions.get(id);
        if (session?.events.length !== config.events) throw new Error(`read ${session?.events.length} events, not ${config.events}`);
        reads++;
      }
      delay.disable();
      clearInterval(ticker);
      const seconds = (performance.now() - t0) / 1000;
      return {
        reads,
        readsPerSecond: Math.round((reads / seconds) * 10) / 10,
        callerUs: ((threadCpuNs() ?? 0) - cpu0) / reads / 1000,
        maxDelayMs: delay.max / 1e6,
        maxCpuGapMs,
        p99DelayMs: delay.percentile(99) / 1e6,
      };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One way to carry an answer: what the reader does with it, and what the caller does. */
interface Encoding {
  send: () => void;
  receive: () => void;
}

/**
 * Sends N messages, then takes them, for each encoding in turn, 9 rounds: the sender's and
 * the receiver's µs per message, medians. The encodings alternate round by round, so a
 * machine whose load moves moves them all.
 */
function exchange(n: number, encodings: readonly Encoding[]): [number, number][] {
  const sends = encodings.map((): number[] => []);
  const receives = encodings.map((): number[] => []);
  for (const { send, receive } of encodings) {
    for (let i = 0; i < 20; i++) send();
    for (let i = 0; i < 20; i++) receive();
  }
  for (let round = 0; round < 9; round++) {
    encodings.forEach(({ send, receive }, e) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) send();
      const t1 = performance.now();
      for (let i = 0; i < n; i++) receive();
      const t2 = performance.now();
      sends[e]!.push(((t1 - t0) * 1000) / n);
      receives[e]!.push(((t2 - t1) * 1000) / n);
    });
  }
  return encodings.map((_, e) => [median(sends[e]!), median(receives[e]!)]);
}

async function encodings(events: number): Promise<string> {
  const open = await load(THIS_ROOT);
  const dir = mkdtempSync(join(tmpdir(), 'abathur-read-path-'));
  const path = join(dir, 'bench.db');
  const seed = seedDatabase(path, { sessions: 100, memoryPerScope: 10, tasks: 10 });
  const store = await open({ path, readers: 1 });
  const ids = Array.from({ length: 16 }, (_, i) => sessionIdOf(i % seed.sessions));
  const sessions = await Promise.all(ids.map((id) => store.sessions.get(id)));
  const memories = await Promise.all(ids.map((id) => store.memory.get(`session:${id}`, 'key1')));
  const contexts = await Promise.all(ids.slice(0, 4).map((id, i) => store.memory.context({ sessionId: id, userId: `user${i}`, appName: `app${i}`, projectId: `project${i}` })));
  const { id } = await store.sessions.create({ appName: 'bench', userId: 'u' });
  const text = 'word '.repeat(40);
  for (let n = 0; n < events; n += 1000) {
    await store.sessions.appendEvents(id, Array.from({ length: Math.min(1000, events - n) }, (_, i) => ({ event: { role: 'user', text, seq: n + i } })));
  }
  const large = await store.sessions.get(id);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  // As a batch's answer: 1 and the value, for each call.
  const flat = (values: unknown[]): unknown[] => values.flatMap((value) => [1, value]);
  const payloads: [string, unknown[]][] = [
    ['16 × sessions.get (one event each)', flat(sessions)],
    ['16 × memory.get', flat(memories)],
    ['4 × memory.context', flat(contexts)],
    [`1 × sessions.get, ${events} events`, flat([large])],
    ['one page: 256 of those events', large!.events.slice(0, 256)],
  ];
  const { port1, port2 } = new MessageChannel();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const take = (): unknown => receiveMessageOnPort(port2)!.message;
  const rows: string[] = [];
  const f = (x: number): string => x.toFixed(1);
  for (const [name, payload] of payloads) {
    const bytes = JSON.stringify(payload).length;
    const n = bytes > 100_000 ? 40 : bytes > 20_000 ? 400 : 3000;
    const [clone, json, buffer] = exchange(n, [
      { send: () => port1.postMessage(payload), receive: take },
      { send: () => port1.postMessage(JSON.stringify(payload)), receive: () => void JSON.parse(take() as string) },
      {
        send: () => {
          const encoded = encoder.encode(JSON.stringify(payload));
          port1.postMessage(encoded, [encoded.buffer]);
        },
        receive: () => void JSON.parse(decoder.decode(take() as Uint8Array)),
      },
    ]) as [[number, number], [number, number], [number, number]];
    rows.push(`| ${name} | ${bytes.toLocaleString('en-US')} | ${f(clone[0])} / **${f(clone[1])}** | ${f(json[0])} / **${f(json[1])}** | ${f(buffer[0])} / **${f(buffer[1])}** |`);
  }
  port1.close();
  return [
    '| answer | JSON bytes | structured clone: reader / caller µs | JSON text: reader / caller µs | JSON in a transferred buffer: reader / caller µs |',
    '| --- | ---: | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function runChild(config: ChildConfig): ChildResult {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(config)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as ChildResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      before: { type: 'string' },
      trials: { type: 'string', default: '5' },
      duration: { type: 'string', default: '4' },
      callers: { type: 'string', default: '64' },
      events: { type: 'string', default: '5000' },
      only: { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    process.stdout.write(JSON.stringify(await child(JSON.parse(values.child) as ChildConfig)));
    return;
  }
  const events = Number(values.events);
  const systems: [string, string][] = [['after', THIS_ROOT]];
  if (values.before !== undefined) systems.push(['before', resolve(values.before)]);
  const tasks = (values.only?.split(',') ?? ['point', 'tuple', 'large', 'encoding']) as (Task | 'encoding')[];
  for (const task of tasks) {
    if (task === 'encoding') {
      console.log(`\nencodings (this thread sends and takes; µs per message, median of 9 alternating rounds)\n${await encodings(events)}`);
      continue;
    }
    const results = new Map<string, ChildResult[]>(systems.map(([name]) => [name, []]));
    for (let trial = 0; trial < Number(values.trials); trial++) {
      for (const [name, root] of systems) {
        const result = runChild({ task, root, durationMs: Number(values.duration) * 1000, callers: Number(values.callers), events });
        results.get(name)!.push(result);
        console.log(`  ${task} trial ${trial + 1} ${name}: ${JSON.stringify(result)}`);
      }
    }
    console.log(`\n${task}: medians of ${values.trials} trials`);
    console.log('| build | reads/s | caller CPU per read | event-loop delay p99 / max | most CPU between two 1 ms timer turns |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, list] of results) {
      const gap = list[0]!.maxDelayMs === undefined ? '' : `${median(list.map((r) => r.p99DelayMs!)).toFixed(2)} / ${median(list.map((r) => r.maxDelayMs!)).toFixed(2)} ms`;
      const cpu = median(list.map((r) => r.callerUs));
      const cpuGap = list[0]!.maxCpuGapMs === undefined ? '' : `${median(list.map((r) => r.maxCpuGapMs!)).toFixed(2)} ms`;
      console.log(`| ${name} | ${median(list.map((r) => r.readsPerSecond)).toLocaleString('en-US')} | ${cpu < 100 ? cpu.toFixed(2) : Math.round(cpu).toLocaleString('en-US')} µs | ${gap} | ${cpuGap} |`);
    }
  }
}

await main();
