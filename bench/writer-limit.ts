import { performance } from 'node:perf_hooks';
import { cpuMeter } from './cpu.js';
import { sessionIdOf, type SeedInfo } from './seed.js';
import { catalogueCalls, claimedTask } from './systems.js';
import type { LoadResult, Mix, OpName } from './workload.js';
import { openWriterConnection, operations, PreparedCatalogue, UsageError, type OperationCall, type Synchronous } from '../src/internal.js';

/** Operations per transaction: the writer's default group-commit batch. */
export const LIMIT_BATCH = 64;

const WRITES: readonly OpName[] = ['appendEvent', 'updateMemory', 'claimComplete', 'saveCheckpoint', 'recordMetric'];

export interface WriterLimitOptions {
  path: string;
  seed: SeedInfo;
  synchronous: Synchronous;
  durationMs: number;
  mix: Mix;
  runId: number;
}

/**
 * The single-connection write ceiling: the store's own write statements (the catalogue's
 * operations, audit rows included), run back to back on one connection on this thread,
 * LIMIT_BATCH per `BEGIN IMMEDIATE … COMMIT`, without savepoints, with nothing else to do:
 * no queue, no thread hop, no promise. What the writer thread could reach if group
 * commit cost nothing.
 */
/** Refuses a mix writer-limit cannot run: it has no reader. */
export function assertWriteMix(mix: Mix): void {
  for (const op of Object.keys(mix) as OpName[]) {
    if (!WRITES.includes(op)) throw new UsageError(`writer-limit runs write operations only (${WRITES.join(', ')}), not ${op}`);
  }
}

export function runWriterLimit(options: WriterLimitOptions): LoadResult {
  assertWriteMix(options.mix);
  const entries = Object.entries(options.mix) as [OpName, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  const db = openWriterConnection(options.path, { synchronous: options.synchronous, busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
  db.pragma('journal_mode = WAL');
  const catalogue = new PreparedCatalogue(db, operations, ['write']);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const run = ([name, args]: OperationCall): unknown => {
    const { operation, context } = catalogue.get(name);
    return operation.run(context, args);
  };
  let x = options.runId >>> 0;
  const next = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 4294967296;
  };
  const pick = (): OpName => {
    let r = next() * total;
    for (const [op, weight] of entries) if ((r -= weight) < 0) return op;
    return entries[entries.length - 1]![0];
  };

  let ops = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const cpu = cpuMeter();
  const started = performance.now();
  const deadline = started + options.durationMs;
  while (performance.now() < deadline) {
    begin.run();
    for (let j = 0; j < LIMIT_BATCH; j++, ops++) {
      const n = ops;
      const i = n % options.seed.sessions;
      const sessionId = sessionIdOf(i);
      try {
        switch (pick()) {
          case 'appendEvent':
            run(catalogueCalls.appendEvent(sessionId, { role: 'agent', text: 'working on it', n }, { step: n }));
            break;
          case 'updateMemory':
            run(catalogueCalls.updateMemory(`session:${sessionId}`, `key${n % options.seed.memoryPerScope}`, { fact: 'updated', n }));
            break;
          case 'claimComplete': {
            const task = claimedTask(run(catalogueCalls.claimNext()));
            if (task !== undefined) run(catalogueCalls.completeTask(task.id, { done: true }));
            break;
          }
          case 'saveCheckpoint':
            run(catalogueCalls.saveCheckpoint(`task${i}`, options.runId * 1_000_000 + n, { step: n }));
            break;
          default:
            run(catalogueCalls.recordMetric('latency_ms', n % 100, { session: sessionId }));
        }
      } catch (error) {
        // Without a savepoint a failed operation could leave half its writes: the limit's
        // mix must not fail, and a failure is reported rather than absorbed.
        errors++;
        if (errorSamples.length < 5) errorSamples.push((error as Error).message);
      }
    }
    commit.run();
  }
  const elapsed = performance.now() - started;
  const cpuPerOp = cpu(ops);
  db.close();
  return {
    system: 'writer-limit',
    sessions: 1,
    durationMs: Math.round(elapsed),
    ops,
    throughput: Math.round(ops / (elapsed / 1000)),
    errors,
    errorSamples,
    latency: {},
    eventLoopDelay: { p50: 0, p99: 0, max: 0 },
    walPeakBytes: 0,
    cpu: cpuPerOp,
  };
}
