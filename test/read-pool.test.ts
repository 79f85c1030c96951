import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { EngineStats } from '../src/diagnostics/engine-stats.js';
import { operations } from '../src/catalogue/index.js';
import type { WireCodec } from '../src/catalogue/operation.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import type { StoredSession } from '../src/catalogue/session-events.js';
import { openReaderConnection } from '../src/sqlite/connection.js';
import { ReadPool, wireCodecsOf, type ReadWorkers } from '../src/sqlite/read-pool.js';
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

describe('read pool: results sent packed', () => {
  /** Readers that answer every call at once with the value `answer` gives for its name. */
  const answering = (answer: (name: string) => unknown): ReadWorkers => ({
    started: 1,
    threads: [],
    run: (request) => {
      const response: ReadBatchResponse = [];
      for (let i = 0; i < request.length; i += 2 + (request[i + 1] as number)) response.push(1, answer(request[i] as string));
      return Promise.resolve(response);
    },
    destroy: () => Promise.resolve(),
  });
  const pair: WireCodec = {
    pack: (value) => [(value as { a: number }).a],
    unpack: (packed) => {
      if (packed[0] === 'bad') throw new Error('not a pair');
      return { a: packed[0] };
    },
  };

  it('unpacks each result with its operation codec; one that fails to unpack fails that call alone', async () => {
    const answers: Record<string, unknown> = { 'test.pair': [1], 'test.plain': [2], 'test.bad': ['bad'], 'test.missing': undefined };
    const pool = new ReadPool(answering((name) => answers[name]), { readers: 1, maxBatch: 16, nice: 0 }, new EngineStats(), new Map([
      ['test.pair', pair],
      ['test.bad', pair],
      ['test.missing', pair],
    ]));
    const [packed, plain, bad, missing] = await Promise.allSettled(['test.pair', 'test.plain', 'test.bad', 'test.missing'].map((name) => pool.submit(name, [])));
    expect(packed).toEqual({ status: 'fulfilled', value: { a: 1 } });
    // No codec for it: as sent.
    expect(plain).toEqual({ status: 'fulfilled', value: [2] });
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.any(StoreError) });
    // Nothing found is sent as undefined, never packed.
    expect(missing).toEqual({ status: 'fulfilled', value: undefined });
  });

  it('gives the caller a session read equal to the one the operation made, key order included', async () => {
    const db = freshDatabase();
    db.prepare(
      'INSERT INTO sessions (id, app_name, user_id, project_id, status, state, metadata, event_count, terminated_at, archived_at) ' +
        `VALUES ('s1', 'app', 'alice', 'p', 'archived', '{"k":[1,{"x":null}]}', NULL, 4, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')`,
    ).run();
    db.prepare(`INSERT INTO sessions (id, app_name, user_id, metadata, event_count) VALUES ('s2', 'app', 'bob', '{"m":1}', 0)`).run();
    const event = db.prepare("INSERT INTO session_events (session_id, seq, event) VALUES ('s1', ?, ?)");
    for (let seq = 1; seq <= 4; seq++) event.run(seq, JSON.stringify({ seq }));
    const direct = new PreparedCatalogue(openReaderConnection(db.name, 1000), operations, ['read']);
    const { operation, context } = direct.get('sessions.get');
    const workers = new InProcessReaders({ path: db.name, busyTimeoutMs: 1000 }, 1);
    const pool = new ReadPool(workers, { readers: 1, maxBatch: 16, nice: 0 }, new EngineStats(), wireCodecsOf(operations));
    const version = (operation.run(context, ['s1', null, null]) as StoredSession).version;
    const helds: (number | undefined)[] = [];
    // Whole; the newest two; with events 2 and 3 held (texts before and after them); another session; none.
    for (const args of [['s1', null, null], ['s1', 2, null], ['s1', null, [version, 2, 3]], ['s2', null, null], ['none', null, null]]) {
      const read = await pool.submit('sessions.get', args);
      const made = operation.run(context, args);
      expect(JSON.stringify(read)).toBe(JSON.stringify(made));
      expect(read).toStrictEqual(made);
      helds.push((made as StoredSession | undefined)?.held);
    }
    expect(helds).toEqual([0, 0, 2, 0, undefined]);
    await pool.close();
  });
});
