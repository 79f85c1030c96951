import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { metricsRecord } from '../src/catalogue/metrics.js';
import { tasksGet } from '../src/catalogue/tasks.js';
import { openInProcessEngine } from './helpers/in-process-store.js';

// The engine on the caller's side: routing, refusal before work, stats and close, over
// in-process threads (test/helpers/in-process-store.ts).

describe('engine', () => {
  it('routes reads to the read pool and writes to the writer', async () => {
    const { engine } = await openInProcessEngine();
    await engine.call(metricsRecord, () => ['m', 1, null, undefined] as const);
    await engine.call(tasksGet, () => ['nobody'] as const);
    const { batches } = engine.stats();
    expect(batches.write.calls).toBe(1);
    expect(batches.read.calls).toBe(1);
  });

  it('refuses past maxQueue with OVERLOADED, per queue, before building the arguments, without a stack trace', async () => {
    const { engine } = await openInProcessEngine({ maxQueue: 2 });
    let built = 0;
    const build = (): readonly [string] => {
      built++;
      return ['nobody'] as const;
    };
    const reads = Array.from({ length: 5 }, () => engine.call(tasksGet, build));
    // The write queue is a queue of its own: not full.
    const write = engine.call(metricsRecord, () => ['m', 1, null, undefined] as const);
    expect(engine.stats().queues).toEqual({ read: 2, write: 1 });
    const settled = await Promise.allSettled(reads);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    const refused = (settled[2] as PromiseRejectedResult).reason as StoreError;
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused.code).toBe('OVERLOADED');
    expect(refused.message).toBe('read queue is full (2 waiting); tasks.get was not run, retry later');
    expect(refused.stack).not.toMatch(/\n\s+at /);
    // Only that error goes without: the limit is restored for every other.
    expect(new Error('later').stack).toMatch(/\n\s+at /);
    expect(built).toBe(2);
    await write;
    // Refusing cost nothing lasting: the queue takes calls again.
    await expect(engine.call(tasksGet, build)).resolves.toBeUndefined();
  });

  it('rejects, queueing nothing, when the arguments do not build', async () => {
    const { engine } = await openInProcessEngine();
    const invalid = new StoreError('INVALID_ARGUMENT', 'bad');
    await expect(
      engine.call(metricsRecord, () => {
        throw invalid;
      }),
    ).rejects.toBe(invalid);
    expect(engine.stats().queues).toEqual({ read: 0, write: 0 });
    expect(engine.stats().batches.write.calls).toBe(0);
  });

  it('takes an AbortSignal only: one already aborted rejects ABORTED with its reason, and nothing is queued or built', async () => {
    const { engine } = await openInProcessEngine();
    let built = 0;
    const build = (): readonly [string, number, null, undefined] => {
      built++;
      return ['m', 1, null, undefined] as const;
    };
    await expect(engine.call(metricsRecord, build, 'stop')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'signal must be an AbortSignal' });
    const reason = new Error('the user went away');
    const error = (await engine.call(metricsRecord, build, AbortSignal.abort(reason)).catch((e: unknown) => e)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'ABORTED', message: 'metrics.record was aborted before it ran' });
    expect(error.cause).toBe(reason);
    expect(built).toBe(0);
    expect(engine.stats().batches.write.calls).toBe(0);
    // A signal that has not aborted lets the call run.
    await expect(engine.call(metricsRecord, build, new AbortController().signal)).resolves.toMatchObject({ name: 'm' });
    expect(built).toBe(1);
  });

  it('reports queues, batches, latency, WAL, restarts and readers; resetStats clears the counters', async () => {
    const { engine, writers } = await openInProcessEngine({ readers: 3 });
    await Promise.all(Array.from({ length: 4 }, (_, i) => engine.call(metricsRecord, () => [`m${i}`, i, null, undefined] as const)));
    await writers[0]!.terminate();
    await engine.call(metricsRecord, () => ['after', 1, null, undefined] as const);
    const stats = engine.stats();
    expect(engine.kind).toBe('sqlite');
    expect(stats.engine).toBe('sqlite');
    expect(stats.limits).toEqual({ maxPayloadBytes: 1 << 20, maxStateBytes: 1 << 20 });
    expect(stats.readers).toBe(3);
    expect(stats.restarts).toEqual({ readers: 0, writer: 1 });
    expect(stats.batches.write).toEqual({ batches: 2, calls: 5, mean: 2.5, max: 4 });
    expect(stats.latency['metrics.record']!.count).toBe(5);
    expect(stats.wal.bytes).toBeGreaterThan(0);
    expect(stats.wal.peakBytes).toBeGreaterThanOrEqual(stats.wal.bytes);
    engine.resetStats();
    const reset = engine.stats();
    expect(reset.batches.write).toEqual({ batches: 0, calls: 0, mean: 0, max: 0 });
    expect(reset.latency['metrics.record']!.count).toBe(0);
    expect(reset.restarts).toEqual({ readers: 0, writer: 1 });
  });

  it('close lets accepted calls finish, refuses new ones with CLOSED, and closes once', async () => {
    const { engine, writers, readers } = await openInProcessEngine();
    const accepted = [
      engine.call(metricsRecord, () => ['m', 1, null, undefined] as const),
      engine.call(tasksGet, () => ['nobody'] as const),
    ];
    const closing = engine.close();
    expect(engine.close()).toBe(closing);
    await expect(engine.call(tasksGet, () => ['x'] as const)).rejects.toMatchObject({
      code: 'CLOSED',
      message: 'store is closed; tasks.get was not run',
    });
    await expect(engine.check()).rejects.toMatchObject({ code: 'CLOSED', message: 'store is closed' });
    await expect(Promise.all(accepted)).resolves.toHaveLength(2);
    await closing;
    expect(writers[0]!.alive).toBe(false);
    expect(readers.threads.every((t) => t.threadId === -1)).toBe(true);
  });

  it('checks the database through the writer and exposes its threads', async () => {
    const { engine, writers, readers } = await openInProcessEngine({ readers: 2 });
    expect((await engine.check()).ok).toBe(true);
    expect(engine.threads.writer).toBe(writers[0]);
    expect(engine.threads.readers).toEqual(readers.threads);
  });
});
