import type { CheckReport } from '../../src/diagnostics/check.js';
import { Engine } from '../../src/sqlite/engine.js';
import { EngineStats } from '../../src/sqlite/engine-stats.js';
import { settle, type PendingCall } from '../../src/sqlite/pending-call.js';
import type { OperationTarget, WriterTarget } from '../../src/sqlite/targets.js';
import { resolveOptions, type StoreOptions } from '../../src/api/options.js';
import { appendCall, decodeOutcomes, type OperationCall, type Outcome, type ReadBatchRequest } from '../../src/sqlite/protocol.js';
import { createReadHandler } from '../../src/sqlite/reader-thread.js';
import type { Store } from '../../src/api/store.js';
import { createStore } from '../../src/api/internal.js';
import '../../src/api/store.js';
import { WriterService } from '../../src/sqlite/writer-thread.js';
import { cleanup, tempDbPath } from './temp.js';

/**
 * A target that runs batches on this thread: the same catalogue, executors and
 * connections as the workers, minus the thread hop, so coverage sees the operations.
 * Outcomes are structured-cloned as they would be crossing a thread.
 */
class InProcessTarget implements OperationTarget {
  readonly #run: (calls: OperationCall[]) => Outcome[];
  readonly #stats: EngineStats;
  #queue: PendingCall[] = [];
  #scheduled = false;
  readonly restarts = 0;

  constructor(run: (calls: OperationCall[]) => Outcome[], stats: EngineStats) {
    this.#run = run;
    this.#stats = stats;
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  submit(name: string, args: readonly unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ name, args: structuredClone(args), resolve, reject, start: performance.now() });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    const outcomes = structuredClone(this.#run(batch.map((call): OperationCall => [call.name, call.args])));
    for (let i = 0; i < batch.length; i++) settle(batch[i]!, outcomes[i]!, this.#stats);
  }

  async drain(): Promise<void> {
    while (this.#queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
  }
}

class InProcessWriter extends InProcessTarget implements WriterTarget {
  readonly #service: WriterService;
  walBytes = 0;
  peakWalBytes = 0;

  constructor(service: WriterService, stats: EngineStats) {
    super(
      (calls) => {
        const response = service.execute(calls);
        this.walBytes = response.walBytes;
        this.peakWalBytes = Math.max(this.peakWalBytes, response.walBytes);
        return response.outcomes;
      },
      stats,
    );
    this.#service = service;
  }

  check(): Promise<CheckReport> {
    return Promise.resolve(this.#service.check());
  }

  override async close(): Promise<void> {
    await super.close();
    this.#service.close();
  }
}

/**
 * A Store whose operations run on this thread (see InProcessTarget). For tests of what
 * the operations do; tests of threads, batching and faults use the real store.
 */
export function openInProcessStore(options: Partial<StoreOptions> = {}): Store {
  const resolved = resolveOptions({ path: tempDbPath(), ...options });
  const stats = new EngineStats();
  const service = WriterService.open({
    path: resolved.path,
    synchronous: resolved.synchronous,
    busyTimeoutMs: resolved.busyTimeoutMs,
    journalSizeLimit: resolved.journalSizeLimit,
    walLimitBytes: resolved.walLimitBytes,
    checkpointIntervalMs: resolved.checkpointIntervalMs,
    manageWal: resolved.manageWal,
  });
  const read = createReadHandler({ path: resolved.path, busyTimeoutMs: resolved.busyTimeoutMs });
  const engine = new Engine(
    resolved,
    stats,
    new InProcessWriter(service, stats),
    new InProcessTarget(
      (calls) => {
        const request: ReadBatchRequest = [];
        for (const [name, args] of calls) appendCall(request, name, args);
        return decodeOutcomes(read(request));
      },
      stats,
    ),
  );
  const store = createStore(engine);
  cleanup(() => store.close());
  return store;
}
