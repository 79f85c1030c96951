import { wrap } from 'comlink';
import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/api/options.js';
import { engineConfig } from '../src/sqlite/engine.js';
import { workerEndpoint } from '../src/sqlite/node-endpoint.js';
import type { OperationCall } from '../src/sqlite/protocol.js';
import { spawnWriterThread } from '../src/sqlite/threads.js';
import { cleanup, tempDbPath } from './helpers/temp.js';

// A real writer thread (dist/workers/writer.js: run `npm run build` first) that exits
// while calls to it are owed: comlink keeps each call's resolver until an answer comes,
// and a thread that exited never answers.

describe('a writer thread that exits', () => {
  it('settles every call it still owed: each rejects WORKER_CRASHED, none is left pending', async () => {
    const thread = spawnWriterThread(() => {});
    cleanup(async () => void (await thread.terminate()));
    expect(await thread.remote.open(engineConfig(resolveOptions({ path: tempDbPath() })).writer)).toEqual({ ok: true });
    // A batch that keeps the thread busy, and a check queued behind it: both owed when it ends.
    const batch = Array.from({ length: 50_000 }, (_, n): OperationCall => ['metrics.record', [`m${n}`, n, null, undefined]]);
    const owed = [thread.remote.execute(batch), thread.remote.check()];
    const states = owed.map((call) => {
      const state = { settled: 'pending' as string };
      call.then(
        () => (state.settled = 'resolved'),
        (error: unknown) => (state.settled = (error as { code?: string }).code ?? String(error)),
      );
      return state;
    });
    await thread.terminate();
    await thread.exited.catch(() => {});
    await nextTurn();
    expect(states.map((s) => s.settled)).toEqual(['WORKER_CRASHED', 'WORKER_CRASHED']);
    await expect(owed[1]).rejects.toMatchObject({ name: 'StoreError', message: expect.stringMatching(/^writer thread exited with code \d+$/) });
  });
});

/** A stand-in for a Worker: what is posted is kept; answers and the exit are emitted by the test. */
class FakeWorker extends EventEmitter {
  readonly posted: { id: string }[] = [];
  postMessage(message: { id: string }): void {
    this.posted.push(message);
  }
}

describe('the caller’s end of a worker’s comlink channel', () => {
  it('answers on exit only what is still owed; a call answered before keeps its answer', async () => {
    const worker = new FakeWorker();
    const remote = wrap<{ one(): number; two(): number }>(workerEndpoint(worker as unknown as Worker, (code) => new Error(`exited ${code}`)));
    const one = remote.one();
    const two = remote.two();
    expect(worker.posted).toHaveLength(2);
    worker.emit('message', { id: worker.posted[0]!.id, type: 'RAW', value: 1 });
    worker.emit('exit', 7);
    await expect(one).resolves.toBe(1);
    await expect(two).rejects.toThrow('exited 7');
  });

  it('tells listeners given as objects, and no longer those removed', () => {
    const worker = new FakeWorker();
    const endpoint = workerEndpoint(worker as unknown as Worker, () => 'gone');
    const seen: unknown[] = [];
    const kept = { handleEvent: (event: MessageEvent) => seen.push(event.data) };
    const removed = (event: MessageEvent): void => void seen.push(['removed', event.data]);
    endpoint.addEventListener('message', kept);
    endpoint.addEventListener('message', removed);
    endpoint.removeEventListener('message', removed);
    endpoint.postMessage({ id: 'a' });
    endpoint.postMessage({ no: 'id' });
    worker.emit('exit', 1);
    expect(seen).toEqual([{ id: 'a', type: 'HANDLER', name: 'throw', value: { isError: false, value: 'gone' } }]);
  });
});
