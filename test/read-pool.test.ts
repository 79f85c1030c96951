import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { EngineStats } from '../src/diagnostics/engine-stats.js';
import { ReadPool } from '../src/sqlite/read-pool.js';
import type { ReadBatchRequest, ReadBatchResponse } from '../src/sqlite/protocol.js';
import { InProcessReaders } from './helpers/in-process-store.js';
import { freshDatabase } from './helpers/database.js';

// The read pool's coalescing, spreading and failure handling, on reader threads that run
// on this thread (test/helpers/in-process-store.ts).

/** Readers that also record each batch they were sent. */
class RecordingReaders extends InProcessReaders {
  readonly sizes: number[] = [];
  inFlight = 0;
  maxInFlight = 0;

  override async run(request: ReadBatchRequest): Promise<ReadBatchResponse> {
    let calls = 0;
    for (let i = 0; i < request.length; i += 2 + (request[i + 1] as number)) calls++;
    this.sizes.push(calls);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await super.run(request);
    } finally {
      this.inFlight--;
    }
  }
}

function setup(limits: { readers?: number; maxBatch?: number } = {}) {
  const db = freshDatabase();
  db.prepare("INSERT INTO tasks (id, prompt, input_data, created_by) VALUES ('t1', 'p', '{}', 'alice')").run();
  const readers = limits.readers ?? 2;
  const workers = new RecordingReaders({ path: db.name, busyTimeoutMs: 1000 }, readers);
  const stats = new EngineStats();
  const pool = new ReadPool(workers, { readers, maxBatch: limits.maxBatch ?? 256, nice: 0 }, stats);
  const get = (id: string): Promise<unknown> => pool.submit('tasks.get', [id]);
  return { pool, workers, stats, get };
}

describe('read pool', () => {
  it('sends a lone read at once, in a batch of its own, and settles it with the row', async () => {
    const { pool, workers, stats, get } = setup();
    const read = get('t1');
    expect(pool.queueDepth).toBe(1);
    await Promise.resolve();
    // Flushed in a microtask: already with a reader, before any timer or I/O could run.
    expect(pool.queueDepth).toBe(0);
    expect(workers.sizes).toEqual([1]);
    expect(await read).toMatchObject({ id: 't1', createdBy: 'alice' });
    expect(stats.readBatches.summary()).toEqual({ batches: 1, calls: 1, mean: 1, max: 1 });
    expect(stats.latency()['tasks.get']!.count).toBe(1);
  });

  it('spreads reads issued together over every reader slot, two batches per reader', async () => {
    const { workers, get } = setup({ readers: 2 });
    const reads = await Promise.all(Array.from({ length: 100 }, () => get('t1')));
    expect(reads.every((r) => (r as { id: string }).id === 't1')).toBe(true);
    expect(workers.sizes).toEqual([25, 25, 25, 25]);
    expect(workers.maxInFlight).toBe(4);
  });

  it('never sends more than maxBatch in one batch, nor more than two batches per reader at once', async () => {
    const { workers, get } = setup({ readers: 1, maxBatch: 10 });
    await Promise.all(Array.from({ length: 55 }, () => get('t1')));
    expect(workers.sizes.reduce((a, b) => a + b)).toBe(55);
    expect(Math.max(...workers.sizes)).toBe(10);
    expect(workers.maxInFlight).toBe(2);
  });

  it('lets reads wait while every reader is busy, then sends them together', async () => {
    const { workers, get } = setup({ readers: 1 });
    const first = [get('t1'), get('t1')];
    await Promise.resolve();
    // Both slots taken by batches of one each; these wait for the end of this turn.
    const later = Array.from({ length: 6 }, () => get('t1'));
    await Promise.all([...first, ...later]);
    expect(workers.sizes).toEqual([1, 1, 6]);
  });

  it('with a read in flight, waits for the end of the turn, so reads issued a microtask apart go out together', async () => {
    const { workers, get } = setup({ readers: 1 });
    const first = get('t1');
    await Promise.resolve();
    // One of the two slots is free, yet the first of these does not go alone: all three
    // wait for the turn to end, and then spread over the two slots the answer freed.
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      later.push(get('t1'));
      await Promise.resolve();
    }
    await Promise.all([first, ...later]);
    expect(workers.sizes).toEqual([1, 2, 1]);
  });

  it('rejects a failing read alone, with its code', async () => {
    const { pool, get } = setup();
    const settled = await Promise.allSettled([get('t1'), pool.submit('no.such.read', []), get('missing')]);
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { id: 't1' } });
    expect(settled[1]).toMatchObject({ status: 'rejected', reason: { name: 'StoreError', code: 'INTERNAL' } });
    expect(settled[2]).toEqual({ status: 'fulfilled', value: undefined });
  });

  it('a reader that dies fails only its batch with WORKER_CRASHED, and is replaced', async () => {
    const { pool, workers, get } = setup({ readers: 2 });
    const doomed = workers.threads[0]!;
    const batch = Array.from({ length: 8 }, () => get('t1'));
    await doomed.terminate();
    const settled = await Promise.allSettled(batch);
    const codes = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as { code: string }).code));
    // Four batches of two, round-robin over the two readers: the dead one had two of them.
    expect(codes.filter((c) => c === 'WORKER_CRASHED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(4);
    const crashed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    expect((crashed.reason as Error).message).toBe('reader thread died during the read: Terminating worker thread');
    expect((crashed.reason as Error).cause).toMatchObject({ message: 'Terminating worker thread' });
    expect(pool.restarts).toBe(1);
    expect(pool.threads).toHaveLength(2);
    expect(pool.threads).not.toContain(doomed);
    expect(await get('t1')).toMatchObject({ id: 't1' });
  });

  it('drain waits until nothing is queued or in flight; close drains and ends the readers', async () => {
    const { pool, workers, get } = setup();
    await pool.drain();
    let drained = false;
    const reads = Array.from({ length: 10 }, () => get('t1'));
    const drain = pool.drain().then(() => (drained = true));
    // The reads went out in a microtask; they answer a turn later. Until then, not drained.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(pool.queueDepth).toBe(0);
    expect(drained).toBe(false);
    await Promise.all(reads);
    await drain;
    expect(drained).toBe(true);
    const threads = [...workers.threads];
    const last = get('t1');
    await pool.close();
    expect(await last).toMatchObject({ id: 't1' });
    expect(threads.every((t) => t.threadId === -1)).toBe(true);
  });

  it('passes on a reader\'s own StoreError (one that could not start says why), in reads and in the warm-up', async () => {
    const { pool, workers, get } = setup({ readers: 1 });
    const why = new StoreError('IO_ERROR', 'cannot open database /x.db: file does not exist');
    workers.run = () => Promise.reject(why);
    await expect(get('t1')).rejects.toBe(why);
    await expect(pool.warmUp()).rejects.toBe(why);
  });

  it('warms up with two empty batches per reader', async () => {
    const { pool, workers } = setup({ readers: 3 });
    await pool.warmUp();
    expect(workers.sizes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(pool.restarts).toBe(0);
  });
});
