// `npm run bench -- --langgraph`: AbathurSaver against LangGraph's own SqliteSaver
// (and MemorySaver, LangGraph's in-memory ceiling) at 64 concurrent threads, each system
// in a process of its own, trials interleaved, medians reported.
//
// Four workloads, the same fixed work for every system (a run that went faster must not
// end with bigger state than a slower one):
//   graph        a small StateGraph (three nodes appending messages), K invokes per thread
//   graph-large  the same graph whose first invoke also stores a 64 KiB document set that
//                later steps never change
//   saver        the saver calls LangGraph makes for those invokes (getTuple, then per step
//                putWrites + put), made directly: the persistence layer without LangGraph's
//                own CPU time per step
//   saver-large  the same with the 64 KiB channel
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Annotation, END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { emptyCheckpoint, uuid6, type Checkpoint, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { openStore } from '../src/store.js';
import { AbathurSaver } from '../src/langgraph/index.js';
import { cpuMeter } from './cpu.js';
import { benchFile } from './paths.js';
import { postgresDatabases } from './postgres-databases.js';
import { int, machineInfo, table, type MachineInfo, runChildTrial } from './report.js';

/**
 * `before`: AbathurSaver of another build of this package (--before DIR), for a change
 * measured in the same run. On PostgreSQL: AbathurSaver on a store opened with { url }
 * (`abathur-pg`), LangGraph's PostgresSaver (`postgres`).
 */
export const LG_SYSTEMS = ['abathur', 'sqlite', 'memory', 'before', 'abathur-pg', 'postgres'] as const;
/** The systems on PostgreSQL: AbathurSaver on a store opened with { url }, LangGraph's PostgresSaver. */
const ON_POSTGRES: readonly LgSystem[] = ['abathur-pg', 'postgres'];
export type LgSystem = (typeof LG_SYSTEMS)[number];
export const LG_WORKLOADS = ['graph', 'graph-large', 'saver', 'saver-large'] as const;
export type LgWorkload = (typeof LG_WORKLOADS)[number];

export interface LgTrialConfig {
  system: LgSystem;
  workload: LgWorkload;
  threads: number;
  /** Invokes per thread. */
  invokes: number;
  /** A fresh directory for the database. */
  dir: string;
  /** For `before`: the root of the other build. */
  beforeApp?: string;
  /** A fresh PostgreSQL database, for the systems on PostgreSQL. */
  url?: string;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface LgResult {
  system: LgSystem;
  workload: LgWorkload;
  seconds: number;
  /** Checkpoints written (one per superstep). */
  steps: number;
  stepsPerSecond: number;
  /** Milliseconds, on the caller's side. */
  getTuple: Percentiles;
  put: Percentiles;
  putWrites: Percentiles;
  /** How late the caller's event loop ran a 1 ms timer, in ms; count = the timer's firings. */
  loop: Percentiles;
  /** Microseconds of the caller's (main) thread's CPU per step (per put); null where it cannot be read. */
  callerCpuUs: number | null;
  /** Microseconds of the whole process's CPU (every thread) per step. */
  processCpuUs: number;
  /** Microseconds per step of each other thread that used at least 2% of the process's CPU, busiest first (the writer first). */
  threadsCpuUs: number[];
  databaseBytes: number;
}

const DOCUMENTS = 'lorem ipsum dolor sit amet '.repeat(2427).slice(0, 64 * 1024);
const text = (n: number, seed: number) => `message ${seed} `.padEnd(n, 'x');

function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: 0, p99: 0, max: 0, count: 0 };
  const sorted = samples.slice().sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(sorted[sorted.length - 1]!), count: samples.length };
}

/**
 * The caller's event-loop delay as a timer sees it: a 1 ms interval timer records how
 * long after its due time each firing came, and stopping records the wait since the last
 * firing too. A loop that never yields to timers during a run therefore reports the whole
 * run as one delay, not 0 ms from no samples at all (which is what `monitorEventLoopDelay`
 * reports then).
 */
class TimerLateness {
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #lateness: number[] = [];

  start(): void {
    this.#last = performance.now();
    this.#timer = setInterval(() => this.#tick(), 1);
  }

  #tick(): void {
    const now = performance.now();
    this.#lateness.push(Math.max(0, now - this.#last - 1));
    this.#last = now;
  }

  stop(): Percentiles {
    clearInterval(this.#timer);
    this.#tick();
    return percentiles(this.#lateness);
  }
}

/** Times a saver's getTuple, put and putWrites on the caller's side, and counts puts. */
function instrument(saver: BaseCheckpointSaver): { getTuple: number[]; put: number[]; putWrites: number[] } {
  const samples = { getTuple: [] as number[], put: [] as number[], putWrites: [] as number[] };
  for (const name of ['getTuple', 'put', 'putWrites'] as const) {
    const original = (saver[name] as (...args: unknown[]) => Promise<unknown>).bind(saver);
    (saver as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const start = performance.now();
      try {
        return await original(...args);
      } finally {
        samples[name].push(performance.now() - start);
      }
    };
  }
  return samples;
}

type Message = { role: string; content: string };
const State = Annotation.Root({
  messages: Annotation<Message[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  documents: Annotation<string | undefined>(),
  turn: Annotation<number>({ reducer: (_, b) => b, default: () => 0 }),
});

function buildGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(State)
    .addNode('agent', (s: typeof State.State) => ({ messages: [{ role: 'assistant', content: text(200, s.messages.length) }], turn: s.turn + 1 }))
    .addNode('tools', (s: typeof State.State) => ({ messages: [{ role: 'tool', content: text(300, s.messages.length) }] }))
    .addNode('respond', (s: typeof State.State) => ({ messages: [{ role: 'assistant', content: text(200, s.messages.length) }] }))
    .addEdge(START, 'agent')
    .addEdge('agent', 'tools')
    .addEdge('tools', 'respond')
    .addEdge('respond', END)
    .compile({ checkpointer });
}

async function graphWork(saver: BaseCheckpointSaver, config: LgTrialConfig, large: boolean): Promise<void> {
  const graph = buildGraph(saver);
  await Promise.all(
    Array.from({ length: config.threads }, async (_, t) => {
      const thread = { configurable: { thread_id: `thread-${t}` } };
      for (let i = 0; i < config.invokes; i++) {
        const input = { messages: [{ role: 'user', content: text(100, i) }], ...(large && i === 0 ? { documents: DOCUMENTS } : {}) };
        await graph.invoke(input, thread);
      }
    }),
  );
}

/**
 * The calls LangGraph makes for one invoke of the graph above, made directly and as
 * LangGraph makes them with its default durability ("async"): the latest checkpoint
 * first; then per step (the input and each of three nodes) the task's writes, sent
 * without waiting, and the new checkpoint, whose changed channels only are in
 * newVersions, put after the previous put; the invoke ends when all of them are stored.
 */
async function saverWork(saver: BaseCheckpointSaver, config: LgTrialConfig, large: boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: config.threads }, async (_, t) => {
      let messages: Message[] = [];
      let versions: Record<string, number> = {};
      let current: RunnableConfig = { configurable: { thread_id: `thread-${t}`, checkpoint_ns: '' } };
      const next = (channel: string) => saver.getNextVersion(versions[channel]);
      for (let i = 0; i < config.invokes; i++) {
        const latest = await saver.getTuple(current);
        if (latest !== undefined) current = latest.config;
        const pending: Promise<unknown>[] = [];
        let chain = Promise.resolve(current);
        for (let step = -1; step < 3; step++) {
          const message: Message = { role: step === -1 ? 'user' : 'assistant', content: text(step === 1 ? 300 : 200, messages.length) };
          const changed: Record<string, number> = { messages: next('messages'), turn: next('turn') };
          if (large && i === 0 && step === -1) changed.documents = next('documents');
          const id = uuid6(-1);
          const parentId = (step === -1 ? (current.configurable?.checkpoint_id as string | undefined) : undefined) ?? id;
          pending.push(saver.putWrites({ configurable: { thread_id: `thread-${t}`, checkpoint_ns: '', checkpoint_id: parentId } }, [['messages', [message]], ['turn', i]], `task-${i}-${step}`, `~__pregel_pull, node${step}`));
          messages = messages.concat(message);
          versions = { ...versions, ...changed };
          const checkpoint: Checkpoint = {
            ...emptyCheckpoint(),
            id,
            channel_values: { messages, turn: i, ...(large ? { documents: DOCUMENTS } : {}) },
            channel_versions: versions,
            versions_seen: { agent: { messages: versions.messages! } },
          };
          const metadata: CheckpointMetadata = { source: step === -1 ? 'input' : 'loop', step: i * 4 + step, parents: {} };
          chain = chain.then((previous) => saver.put(previous, checkpoint, metadata, changed));
        }
        const [last] = await Promise.all([chain, ...pending]);
        current = last;
      }
    }),
  );
}

/** Runs one trial in this process. */
export async function runLangGraphTrial(config: LgTrialConfig): Promise<LgResult> {
  const path = join(config.dir, `${config.system}.db`);
  let saver: BaseCheckpointSaver;
  let close: () => Promise<void>;
  if (config.system === 'abathur') {
    const store = await openStore({ path });
    saver = new AbathurSaver(store);
    close = () => store.close();
  } else if (config.system === 'before') {
    if (config.beforeApp === undefined) throw new Error('the before system needs --before DIR');
    const entry = (file: string) => pathToFileURL(join(resolve(config.beforeApp!), 'dist', 'src', file)).href;
    const before = (await import(entry('index.js'))) as typeof import('../src/index.js');
    const { AbathurSaver: BeforeSaver } = (await import(entry('langgraph/index.js'))) as typeof import('../src/langgraph/index.js');
    const store = await before.openStore({ path });
    saver = new BeforeSaver(store);
    close = () => store.close();
  } else if (config.system === 'abathur-pg') {
    const store = await openStore({ url: config.url! });
    saver = new AbathurSaver(store);
    close = () => store.close();
  } else if (config.system === 'postgres') {
    const { PostgresSaver } = await import('@langchain/langgraph-checkpoint-postgres');
    const postgres = PostgresSaver.fromConnString(config.url!);
    await postgres.setup();
    saver = postgres;
    close = () => postgres.end();
  } else if (config.system === 'sqlite') {
    const sqlite = SqliteSaver.fromConnString(path);
    saver = sqlite;
    close = () => Promise.resolve(void sqlite.db.close());
  } else {
    saver = new MemorySaver();
    close = () => Promise.resolve();
  }
  const samples = instrument(saver);
  const lateness = new TimerLateness();
  lateness.start();
  const cpu = cpuMeter();
  const start = performance.now();
  const large = config.workload.endsWith('-large');
  if (config.workload.startsWith('graph')) await graphWork(saver, config, large);
  else await saverWork(saver, config, large);
  const seconds = (performance.now() - start) / 1000;
  const used = cpu(samples.put.length);
  const loop = lateness.stop();
  await close();
  // Closing checkpoints the WAL into the file (both stores), so the file is the whole database.
  const databaseBytes = fileSize(path);
  return {
    system: config.system,
    workload: config.workload,
    seconds: Math.round(seconds * 1000) / 1000,
    steps: samples.put.length,
    stepsPerSecond: samples.put.length / seconds,
    getTuple: percentiles(samples.getTuple),
    put: percentiles(samples.put),
    putWrites: percentiles(samples.putWrites),
    loop,
    callerCpuUs: used.callerUs,
    processCpuUs: used.processUs,
    threadsCpuUs: used.threadsUs,
    databaseBytes,
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const runChild = (config: LgTrialConfig): Promise<LgResult> => runChildTrial(benchFile('langgraph-trial'), config, `${config.system} ${config.workload}`);

export interface LgBenchOptions {
  threads: number;
  invokes: number;
  trials: number;
  systems: readonly LgSystem[];
  workloads: readonly LgWorkload[];
  beforeApp?: string;
  /** The PostgreSQL server for the systems on PostgreSQL; none: an embedded one. */
  url?: string;
  progress?: (line: string) => void;
}

export interface LgBenchReport {
  machine: MachineInfo;
  config: Omit<LgBenchOptions, 'progress'>;
  trials: LgResult[];
  /** Per workload and system: the trial with the median steps/s. */
  median: Record<string, Record<string, LgResult>>;
}

export async function runLangGraphBench(options: LgBenchOptions): Promise<LgBenchReport> {
  const trials: LgResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'abathur-lg-bench-'));
  const databases = options.systems.some((system) => ON_POSTGRES.includes(system))
    ? await postgresDatabases({ ...(options.url === undefined ? {} : { url: options.url }), progress: options.progress })
    : undefined;
  if (databases !== undefined) options.progress?.(`PostgreSQL systems on ${databases.describe}`);
  try {
    for (let t = 0; t < options.trials; t++) {
      for (const workload of options.workloads) {
        for (const system of options.systems) {
          const trialDir = mkdtempSync(join(dir, `${system}-`));
          const url = ON_POSTGRES.includes(system) ? await databases!.fresh() : undefined;
          const result = await runChild({
            system,
            workload,
            threads: options.threads,
            invokes: options.invokes,
            dir: trialDir,
            ...(options.beforeApp === undefined ? {} : { beforeApp: options.beforeApp }),
            ...(url === undefined ? {} : { url }),
          });
          rmSync(trialDir, { recursive: true, force: true });
          trials.push(result);
          options.progress?.(
            `  trial ${t + 1}/${options.trials} ${workload} ${system}: ${int(result.stepsPerSecond)} steps/s, ` +
              `caller CPU ${result.callerCpuUs ?? '-'} us/step, loop p99 ${result.loop.p99} ms (${result.loop.count} timer firings)`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await databases?.close();
  }
  const medianOf: LgBenchReport['median'] = {};
  for (const workload of options.workloads) {
    medianOf[workload] = {};
    for (const system of options.systems) {
      const runs = trials.filter((r) => r.workload === workload && r.system === system).sort((a, b) => a.stepsPerSecond - b.stepsPerSecond);
      medianOf[workload][system] = runs[(runs.length - 1) >> 1]!;
    }
  }
  const { progress: _progress, url: _url, ...config } = options;
  return { machine: machineInfo(), config, trials, median: medianOf };
}

const ms = (x: number) => `${x} ms`;

export function formatLangGraphBench(report: LgBenchReport): string {
  const { machine, config } = report;
  // The baseline: LangGraph's own saver on the same engine (SqliteSaver; PostgresSaver for the PostgreSQL systems).
  const rows = [
    ['workload', 'system', 'steps/s', 'vs LangGraph', 'vs before', 'caller CPU/step', 'process CPU/step', 'getTuple p50/p99', 'put p50/p99', 'loop p99', 'loop max', 'timer firings', 'db'],
  ];
  for (const [workload, bySystem] of Object.entries(report.median)) {
    const before = bySystem.before?.stepsPerSecond;
    for (const [system, r] of Object.entries(bySystem)) {
      const base = (ON_POSTGRES.includes(system as LgSystem) ? bySystem.postgres : bySystem.sqlite)?.stepsPerSecond;
      rows.push([
        workload,
        system,
        int(r.stepsPerSecond),
        base === undefined ? '-' : `${(r.stepsPerSecond / base).toFixed(2)}x`,
        before === undefined ? '-' : `${(r.stepsPerSecond / before).toFixed(2)}x`,
        r.callerCpuUs === null || r.callerCpuUs === undefined ? '-' : `${r.callerCpuUs} us`,
        r.processCpuUs === undefined ? '-' : `${r.processCpuUs} us`,
        `${ms(r.getTuple.p50)} / ${ms(r.getTuple.p99)}`,
        `${ms(r.put.p50)} / ${ms(r.put.p99)}`,
        ms(r.loop.p99),
        ms(r.loop.max),
        String(r.loop.count),
        r.databaseBytes === 0 ? '-' : `${(r.databaseBytes / 2 ** 20).toFixed(1)} MiB`,
      ]);
    }
  }
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; SQLite ${machine.sqlite}`,
    `${config.threads} concurrent threads x ${config.invokes} invokes (4 checkpoints each), ${config.trials} trials interleaved, median by steps/s`,
    '',
    table(rows),
  ].join('\n');
}

export function writeLangGraphJson(path: string, report: LgBenchReport): void {
  writeFileSync(path, JSON.stringify(report, null, 2));
}

export interface SearchBenchRow {
  items: number;
  dims: number;
  /** Reader threads of the store (each scores a share of the items). */
  readers: number;
  /** Milliseconds per ranked search(query) over every item, on the store's readers. */
  search: Percentiles;
  /** The same with one reader scoring every item. */
  oneReader: Percentiles;
  /** The same ranking over a Float32Array in this process: the arithmetic alone, no SQLite. */
  inMemory: Percentiles;
  /** Milliseconds per search without a query (first page in key order), for contrast. */
  unranked: Percentiles;
  loadSeconds: number;
  databaseBytes: number;
}

/** A reproducible pseudo-random generator (mulberry32), so every run embeds the same vectors. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/**
 * Exhaustive semantic search: `items` items with one `dims`-float vector each (from a
 * deterministic fake embedding), ranked by cosine similarity against 10 queries.
 */
export async function runSearchBench(
  sizes: readonly number[],
  dimsList: readonly number[],
  readers: number,
  progress?: (line: string) => void,
): Promise<SearchBenchRow[]> {
  const { AbathurStore } = await import('../src/langgraph/index.js');
  const rows: SearchBenchRow[] = [];
  for (const dims of dimsList) {
    for (const items of sizes) {
      const dir = mkdtempSync(join(tmpdir(), 'abathur-lg-search-'));
      try {
        const rand = random(items * 31 + dims);
        const vector = () => Array.from({ length: dims }, rand);
        const index = { dims, embed: (texts: string[]) => Promise.resolve(texts.map(vector)), fields: ['text'] };
        const memory = await AbathurStore.fromPath(join(dir, 'search.db'), { index, store: { readers } });
        const loadStart = performance.now();
        const chunk = 500;
        for (let i = 0; i < items; i += chunk) {
          const ops = [];
          for (let j = i; j < Math.min(items, i + chunk); j++) ops.push({ namespace: ['docs', `shard${j % 16}`], key: `doc${j}`, value: { text: `document ${j}`, n: j } });
          await memory.batch(ops);
        }
        const loadSeconds = (performance.now() - loadStart) / 1000;
        const all = new Float32Array(items * dims);
        const qrand = random(7);
        for (let k = 0; k < all.length; k++) all[k] = rand();
        const times: number[] = [];
        const local: number[] = [];
        const unranked: number[] = [];
        // Two warm-up queries (page cache, compiled code), then ten measured.
        for (let q = 0; q < 2; q++) await memory.search(['docs'], { query: `warm-up ${q}`, limit: 10 });
        for (let q = 0; q < 10; q++) {
          const query = `query ${q}`;
          let start = performance.now();
          const found = await memory.search(['docs'], { query, limit: 10 });
          times.push(performance.now() - start);
          if (found.length !== 10 || found[0]?.score === undefined) throw new Error('ranked search returned no scores');
          // The floor: the same arithmetic on vectors already in memory.
          const qv = Float32Array.from({ length: dims }, qrand);
          start = performance.now();
          let qn = 0;
          for (let d = 0; d < dims; d++) qn += qv[d]! * qv[d]!;
          const best: number[] = [];
          for (let n = 0; n < items; n++) {
            let dot = 0;
            let vn = 0;
            for (let d = 0; d < dims; d++) {
              const x = all[n * dims + d]!;
              dot += x * qv[d]!;
              vn += x * x;
            }
            const s = dot / Math.sqrt(qn * vn);
            if (best.length < 10 || s > best[best.length - 1]!) {
              best.push(s);
              best.sort((a, b) => b - a);
              if (best.length > 10) best.pop();
            }
          }
          local.push(performance.now() - start);
          start = performance.now();
          await memory.search(['docs'], { limit: 10 });
          unranked.push(performance.now() - start);
        }
        await memory.close();
        const databaseBytes = statSync(join(dir, 'search.db')).size;
        // The same searches on the same file with one reader.
        const single = await AbathurStore.fromPath(join(dir, 'search.db'), { index, store: { readers: 1 } });
        const oneReader: number[] = [];
        for (let q = 0; q < 12; q++) {
          const start = performance.now();
          await single.search(['docs'], { query: `query ${q}`, limit: 10 });
          if (q >= 2) oneReader.push(performance.now() - start);
        }
        await single.close();
        const row = {
          items,
          dims,
          readers,
          search: percentiles(times),
          oneReader: percentiles(oneReader),
          inMemory: percentiles(local),
          unranked: percentiles(unranked),
          loadSeconds,
          databaseBytes,
        };
        rows.push(row);
        progress?.(`  search ${items} items x ${dims} dims: p50 ${row.search.p50} ms on ${readers} readers, ${row.oneReader.p50} ms on one (in-memory ${row.inMemory.p50} ms)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return rows;
}

export function formatSearchBench(rows: readonly SearchBenchRow[]): string {
  const out = [['items', 'dims', 'ranked p50 / max', 'readers', 'ranked on 1 reader p50', 'same math in memory p50', 'unranked page p50', 'load', 'db']];
  for (const r of rows) {
    out.push([
      int(r.items),
      String(r.dims),
      `${ms(r.search.p50)} / ${ms(r.search.max)}`,
      String(r.readers),
      ms(r.oneReader.p50),
      ms(r.inMemory.p50),
      ms(r.unranked.p50),
      `${r.loadSeconds.toFixed(1)} s`,
      `${(r.databaseBytes / 2 ** 20).toFixed(0)} MiB`,
    ]);
  }
  return table(out);
}
