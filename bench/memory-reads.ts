// Memory reads on the caller's thread: callers asking memory.context in a loop for their
// session, user, app and project, whose entries do not change. For each system: contexts/s,
// the caller's event-loop delay and the caller's thread CPU per context. Systems: this
// build with its decode cache (`after`, decodeCacheBytes default), this build without it
// (`cache-off`, decodeCacheBytes 0), and another build (`before`, --before DIR). Each
// trial runs in its own process on a fresh file; systems are interleaved.
//
//   node dist/bench/memory-reads.js [--before DIR] [--trials 3] [--duration 3] [--callers 16] [--entries 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMeter } from './cpu.js';
import { int, machineInfo, ratio, table, runChildTrial } from './report.js';

type System = 'after' | 'cache-off' | 'before';

interface TrialConfig {
  system: System;
  beforeApp?: string;
  path: string;
  callers: number;
  /** Entries in each scope (session, user, app, project): a context returns 4 × this. */
  entries: number;
  durationMs: number;
}

interface TrialResult {
  system: System;
  contexts: number;
  perSecond: number;
  loopP99: number;
  callerCpuUs: number | null;
  processCpuUs: number;
  load: number;
}

// About what an agent keeps in memory: a fact, where it came from, a few tags.
const value = (scope: string, i: number): unknown => ({
  fact: `The user prefers concise answers with code samples in TypeScript; noted in ${scope} (${i}).`,
  source: { session: `s${i % 7}`, turn: i, model: 'bench-1' },
  tags: ['preference', 'style', scope],
  confidence: 0.87,
});

interface MemoryStore {
  memory: {
    add(input: { namespace: string; key: string; value: unknown; type: string }): Promise<unknown>;
    context(query: { sessionId: string; userId: string; appName: string; projectId: string }): Promise<Record<string, unknown[]>>;
  };
  close(): Promise<void>;
}

async function trial(config: TrialConfig): Promise<TrialResult> {
  const { EventLoopDelay } = await import('../src/cli/event-loop-delay.js');
  const root = config.system === 'before' ? resolve(config.beforeApp!) : resolve(import.meta.dirname, '..', '..');
  const { openStore } = (await import(pathToFileURL(join(root, 'dist', 'src', 'index.js')).href)) as typeof import('../src/index.js');
  const store = (await openStore({ path: config.path, ...(config.system === 'cache-off' ? { decodeCacheBytes: 0 } : {}) })) as unknown as MemoryStore;
  const users = Math.max(1, config.callers >> 1);
  const namespaces = [
    ...Array.from({ length: config.callers }, (_, i) => `session:s${i}`),
    ...Array.from({ length: users }, (_, i) => `user:u${i}`),
    'app:bench',
    'project:p',
  ];
  for (const namespace of namespaces) {
    for (let i = 0; i < config.entries; i++) await store.memory.add({ namespace, key: `k${i}`, value: value(namespace, i), type: 'semantic' });
  }
  const query = (i: number) => ({ sessionId: `s${i}`, userId: `u${i % users}`, appName: 'bench', projectId: 'p' });
  // One untimed read per caller: the callers have read their context before.
  for (let i = 0; i < config.callers; i++) await store.memory.context(query(i));
  const eld = new EventLoopDelay();
  let contexts = 0;
  const load = loadavg()[0]!;
  eld.start();
  const cpu = cpuMeter();
  const started = performance.now();
  const deadline = started + config.durationMs;
  await Promise.all(
    Array.from({ length: config.callers }, async (_, i) => {
      while (performance.now() < deadline) {
        const context = await store.memory.context(query(i));
        if (context.session!.length !== config.entries) throw new Error(`read ${context.session!.length} session entries, not ${config.entries}`);
        contexts++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = cpu(contexts);
  eld.stop();
  await store.close();
  return {
    system: config.system,
    contexts,
    perSecond: Math.round(contexts / (elapsed / 1000)),
    loopP99: eld.summary().p99,
    callerCpuUs: used.callerUs,
    processCpuUs: used.processUs,
    load: Math.round(load * 10) / 10,
  };
}

const child = (config: TrialConfig): Promise<TrialResult> => runChildTrial(fileURLToPath(import.meta.url), config);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      trials: { type: 'string', default: '3' },
      duration: { type: 'string', default: '3' },
      callers: { type: 'string', default: '16' },
      entries: { type: 'string', default: '20' },
    },
  });
  const systems: System[] = values.before === undefined ? ['after', 'cache-off'] : ['after', 'cache-off', 'before'];
  const config = { callers: Number(values.callers), entries: Number(values.entries), durationMs: Number(values.duration) * 1000 };
  const dir = mkdtempSync(join(tmpdir(), 'abathur-memory-reads-'));
  const trials: TrialResult[] = [];
  try {
    for (let t = 0; t < Number(values.trials); t++) {
      for (const system of systems) {
        const path = join(dir, `${system}-${t}.db`);
        const result = await child({ system, ...(values.before === undefined ? {} : { beforeApp: values.before }), path, ...config });
        trials.push(result);
        console.log(
          `  trial ${t + 1} ${system}: ${int(result.perSecond)} contexts/s, caller CPU ${result.callerCpuUs ?? '-'} us/context, ` +
            `process ${result.processCpuUs} us/context, loop p99 ${result.loopP99} ms, load ${result.load}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = machineInfo();
  const median = (system: System): TrialResult => {
    const mine = trials.filter((r) => r.system === system).sort((a, b) => (a.callerCpuUs ?? 0) - (b.callerCpuUs ?? 0));
    return mine[(mine.length - 1) >> 1]!;
  };
  const base = median('cache-off');
  const rows = [['system', 'contexts/s', 'caller CPU / context', 'vs cache-off', 'process CPU / context', 'loop p99', 'load']];
  for (const system of systems) {
    const m = median(system);
    rows.push([system, int(m.perSecond), `${m.callerCpuUs} us`, ratio(m.callerCpuUs ?? 0, base.callerCpuUs ?? 0), `${m.processCpuUs} us`, `${m.loopP99} ms`, String(m.load)]);
  }
  console.log(
    [
      '',
      `machine: ${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; SQLite ${machine.sqlite}`,
      `workload: ${config.callers} callers, each memory.context of its session, user, app and project (${config.entries} entries each, ` +
        `${4 * config.entries} a context, ~260 bytes of JSON each), ${config.durationMs / 1000} s a trial; median trial by caller CPU`,
      '',
      table(rows),
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] !== undefined && process.argv[2].startsWith('{')) process.stdout.write(JSON.stringify(await trial(JSON.parse(process.argv[2]) as TrialConfig)));
  else await main();
}
