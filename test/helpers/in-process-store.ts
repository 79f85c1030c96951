import { StoreError } from '../../src/api/errors.js';
import { resolveOptions, type StoreOptions } from '../../src/api/options.js';
import { createStore, type Store } from '../../src/store.js';
import type { ThreadHandle } from '../../src/sqlite/call-queue.js';
import { Engine, engineConfig } from '../../src/sqlite/engine.js';
import { EngineStats } from '../../src/diagnostics/engine-stats.js';
import { wholeAnswer, type ReadBatchRequest, type ReadBatchResponse } from '../../src/sqlite/protocol.js';
import { operations } from '../../src/catalogue/index.js';
import { ReadPool, wireCodecsOf, type ReadWorkers } from '../../src/sqlite/read-pool.js';
import { openReadHandler, type ReaderConfig, type ReadHandler } from '../../src/sqlite/reader-thread.js';
import { WriterClient, type SpawnWriter, type WriterRemote, type WriterThread } from '../../src/sqlite/writer-client.js';
import { Writer } from '../../src/sqlite/writer-thread.js';
import { cleanup, tempDbPath } from './temp.js';

// Threads that run on this thread: the same Writer and read handlers the worker entries
// run, behind the same asynchronous calls, each call one event-loop turn away and its
// arguments and answers structured-cloned as they would be crossing a thread. The real
// WriterClient and ReadPool drive them, so their queues, batching and restarts run here,
// where coverage and mutation testing see them.

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const never = new Promise<never>(() => {});
let nextThreadId = 1;

/** Where a test can step in: before each call a fake writer thread answers. */
export interface WriterHooks {
  /** Runs before a thread answers `method`; terminating the thread here kills it mid-call. */
  beforeCall?(method: keyof WriterRemote, thread: InProcessWriterThread): void;
}

/** A writer thread on this thread. Terminated, it dies as a thread does: the call it was in never answers. */
export class InProcessWriterThread implements WriterThread {
  threadId = nextThreadId++;
  readonly exited: Promise<never>;
  readonly remote: WriterRemote;
  refed = true;
  /** Batches this thread was executing at once, at most (the client sends one at a time). */
  maxConcurrentBatches = 0;
  #batches = 0;
  readonly #writer = new Writer();
  readonly #onExit: () => void;
  #die!: (error: StoreError) => void;

  constructor(onExit: () => void, hooks: WriterHooks) {
    this.#onExit = onExit;
    this.exited = new Promise<never>((_, reject) => {
      this.#die = reject;
    });
    this.exited.catch(() => {});
    const call =
      <K extends keyof WriterRemote>(method: K) =>
      async (...args: Parameters<WriterRemote[K]>): Promise<Awaited<ReturnType<WriterRemote[K]>>> => {
        const batch = method === 'execute';
        if (batch) this.maxConcurrentBatches = Math.max(this.maxConcurrentBatches, ++this.#batches);
        await turn();
        if (this.alive) hooks.beforeCall?.(method, this);
        if (!this.alive) return never;
        const run = this.#writer[method] as (...a: unknown[]) => unknown;
        try {
          return structuredClone(run.apply(this.#writer, structuredClone(args))) as Awaited<ReturnType<WriterRemote[K]>>;
        } finally {
          if (batch) this.#batches--;
        }
      };
    this.remote = { open: call('open'), execute: call('execute'), check: call('check'), foreignCommits: call('foreignCommits'), close: call('close') };
  }

  get alive(): boolean {
    return this.threadId !== -1;
  }

  ref(): void {
    this.refed = true;
  }

  unref(): void {
    this.refed = false;
  }

  terminate(): Promise<number> {
    if (!this.alive) return Promise.resolve(0);
    this.threadId = -1;
    this.#writer.close();
    this.#die(new StoreError('WORKER_CRASHED', 'writer thread exited with code 1'));
    this.#onExit();
    return Promise.resolve(1);
  }
}

/** Spawns in-process writer threads, keeping each for the test to inspect or kill. */
export function inProcessWriters(hooks: WriterHooks = {}): SpawnWriter & { spawned: InProcessWriterThread[] } {
  const spawned: InProcessWriterThread[] = [];
  const spawn = (onExit: () => void): WriterThread => {
    const thread = new InProcessWriterThread(onExit, hooks);
    spawned.push(thread);
    return thread;
  };
  return Object.assign(spawn, { spawned });
}

/** One reader thread on this thread: its own read-only connection, opened on first use. */
class InProcessReader implements ThreadHandle {
  threadId = nextThreadId++;
  #handler: ReadHandler | undefined;
  readonly #config: ReaderConfig;

  constructor(config: ReaderConfig) {
    this.#config = config;
  }

  /** The batch's answer, its pages (if any) put back in place. */
  run(request: ReadBatchRequest): ReadBatchResponse {
    this.#handler ??= openReadHandler(this.#config);
    return wholeAnswer(this.#handler.run(request));
  }

  terminate(): Promise<number> {
    this.threadId = -1;
    this.#handler?.close();
    return Promise.resolve(1);
  }
}

/**
 * Reader threads on this thread. Batches go round-robin; a batch whose reader was
 * terminated before it answered rejects, and the reader is replaced, as the real readers are.
 */
export class InProcessReaders implements ReadWorkers {
  started = 0;
  readonly threads: InProcessReader[] = [];
  readonly #config: ReaderConfig;
  #next = 0;

  constructor(config: ReaderConfig, readers: number) {
    this.#config = config;
    for (let i = 0; i < readers; i++) this.#start();
  }

  #start(): InProcessReader {
    this.started++;
    const reader = new InProcessReader(this.#config);
    this.threads.push(reader);
    return reader;
  }

  async run(request: ReadBatchRequest): Promise<ReadBatchResponse> {
    const reader = this.threads[this.#next++ % this.threads.length]!;
    const sent = structuredClone(request);
    await turn();
    if (reader.threadId === -1) {
      const index = this.threads.indexOf(reader);
      if (index >= 0) {
        this.threads.splice(index, 1);
        this.#start();
      }
      throw new Error('Terminating worker thread');
    }
    return structuredClone(reader.run(sent));
  }

  destroy(): Promise<void> {
    for (const reader of this.threads) void reader.terminate();
    return Promise.resolve();
  }
}

export interface InProcessStore {
  store: Store;
  engine: Engine;
  writers: InProcessWriterThread[];
  readers: InProcessReaders;
}

/**
 * A Store whose writer and readers run on this thread, and the fakes behind it (to kill
 * them on purpose). For tests of what the operations do and of the engine's queues and
 * restarts; tests of real threads use the real store.
 */
export async function openInProcessEngine(options: Partial<StoreOptions> = {}, hooks: WriterHooks = {}): Promise<InProcessStore> {
  const resolved = resolveOptions({ path: tempDbPath(), ...options });
  const config = engineConfig(resolved);
  const stats = new EngineStats();
  const spawn = inProcessWriters(hooks);
  const writer = await WriterClient.start(config.writer, config.writeQueue, stats, spawn);
  const readers = new InProcessReaders(config.reader, config.readPool.readers);
  const engine = new Engine(resolved, stats, writer, new ReadPool(readers, config.readPool, stats, wireCodecsOf(operations)));
  const store = createStore(engine);
  cleanup(() => store.close());
  return { store, engine, writers: spawn.spawned, readers };
}

/** A Store whose operations run on this thread (see openInProcessEngine). */
export async function openInProcessStore(options: Partial<StoreOptions> = {}): Promise<Store> {
  return (await openInProcessEngine(options)).store;
}
