import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { WireError } from '../src/api/errors.js';
import type { ThreadHandle } from '../src/sqlite/call-queue.js';
import { appendCall, encodeOutcomes, type ReadBatchRequest, type ReadBatchResponse } from '../src/sqlite/protocol.js';
import { ReaderChannels, type ServePool } from '../src/sqlite/reader-channels.js';
import { READER_READY, serveReads, type ServeTask } from '../src/sqlite/reader-thread.js';
import { SLICE_MS } from '../src/sqlite/settler.js';
import { freshDatabase } from './helpers/database.js';
import { tempDbPath } from './helpers/temp.js';

// The reader pool's caller side: dispatch over the serve tasks' ports, answers, deaths,
// boot failures and close, with a pool that stands in for Piscina: the test says when each
// serve task is ready, answers, fails to open, dies or ends.

/** MessagePorts that hold the process open. */
const referencedPorts = (): number => process.getActiveResourcesInfo().filter((name) => name === 'MessagePort').length;

/** Lets messages between ports (and what they set off) arrive. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** One serve task as the fake pool runs it: the test plays the reader on its port. */
class FakeTask {
  readonly port: MessagePort;
  readonly signal: AbortSignal;
  /** Batches that arrived on the task's port, not answered yet, oldest first. */
  readonly batches: ReadBatchRequest[] = [];
  settled = false;
  #resolve!: () => void;
  #reject!: (error: Error) => void;
  readonly promise: Promise<void>;

  constructor(task: ServeTask, signal: AbortSignal) {
    this.port = task.port;
    this.signal = signal;
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.port.on('message', (request: ReadBatchRequest) => this.batches.push(request));
    // Only the caller's ends are counted by referencedPorts().
    this.port.unref();
    // A withdrawn task rejects at once, as Piscina's does.
    signal.addEventListener('abort', () => this.die(new Error('The task has been aborted')));
  }

  ready(): void {
    this.port.postMessage(READER_READY);
  }

  /** Answers its oldest batch with the batch itself, marked. */
  answer(): void {
    this.port.postMessage(['answered', ...this.batches.shift()!]);
  }

  /** Says its connection could not open, and ends, as serveReads does. */
  cannotOpen(error: WireError): void {
    this.port.postMessage({ failed: error });
    this.end();
  }

  end(): void {
    this.settled = true;
    this.port.close();
    this.#resolve();
  }

  die(error = new Error('worker exited with code: 1')): void {
    if (this.settled) return;
    this.settled = true;
    this.port.close();
    this.#reject(error);
  }
}

class FakePool implements ServePool {
  readonly tasks: FakeTask[] = [];
  readonly threads: ThreadHandle[] = [];
  lost: (stranded: boolean, error: Error | undefined) => void = () => {};
  closed = false;

  serve(task: ServeTask, signal: AbortSignal): Promise<unknown> {
    const fake = new FakeTask(task, signal);
    this.tasks.push(fake);
    return fake.promise;
  }

  onThreadLost(listener: (stranded: boolean, error: Error | undefined) => void): void {
    this.lost = listener;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.tasks) if (!task.settled) task.end();
  }
}

function setup(count: number, now?: () => number) {
  const pool = new FakePool();
  const channels = new ReaderChannels(pool, count, { config: { path: 'unused.db', busyTimeoutMs: 100 }, nice: 0 }, now);
  return { pool, channels, tasks: pool.tasks };
}

type Outcome = { ok: unknown } | { error: { message: string; code?: string; cause?: unknown } };

/** Settles a run to a value that toEqual can compare. */
function outcome(promise: Promise<ReadBatchResponse>): Promise<Outcome> {
  return promise.then(
    (ok) => ({ ok }),
    (error: Error & { code?: string }) => ({ error: { message: error.message, code: error.code, cause: error.cause } }),
  );
}

describe('reader channels', () => {
  it('sends each batch to the ready reader with the fewest batches, and answers them in order', async () => {
    const { channels, tasks } = setup(3);
    const [a, b, c] = tasks as [FakeTask, FakeTask, FakeTask];
    expect(channels.started).toBe(0);
    b.ready();
    c.ready();
    await settle();
    expect(channels.started).toBe(2);
    // a is still starting: it gets nothing while b and c are ready.
    const runs = [1, 2, 3, 4].map((n) => channels.run([n]));
    a.ready();
    await settle();
    const fifth = channels.run([5]);
    await settle();
    expect(a.batches).toEqual([[5]]);
    expect(b.batches).toEqual([[1], [3]]);
    expect(c.batches).toEqual([[2], [4]]);
    for (const task of [b, b, c, c, a]) task.answer();
    expect(await Promise.all([...runs, fifth])).toEqual([1, 2, 3, 4, 5].map((n) => ['answered', n]));
    expect(channels.started).toBe(3);
  });

  it('takes a large answer in pages, one per turn of the event loop, and answers its batch once the last is in', async () => {
    const { channels, tasks } = setup(1);
    const task = tasks[0]!;
    task.ready();
    await settle();
    const run = channels.run([1]);
    await settle();
    task.batches.shift();
    // A session with 100 events and a plain value beside it, in pages of 10 events (11 bytes each).
    const session = { id: 's', events: Array.from({ length: 100 }, (_, i) => ({ seq: i + 1 })) };
    const messages = encodeOutcomes([{ ok: true, value: session }, { ok: true, value: 7 }], 110);
    expect(messages).toHaveLength(11);
    // Counts turns of the event loop (one immediate each) until the answer is in.
    let turns = 0;
    let answered = false;
    const tick = (): void => {
      if (answered) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    // All eleven are waiting on the port before the caller's side sees the first.
    for (const message of messages) task.port.postMessage(message);
    const response = await run.finally(() => (answered = true));
    expect(response).toEqual([1, session, 1, 7]);
    // One page a turn: the loop turned between each two of the ten pages.
    expect(turns).toBeGreaterThanOrEqual(9);
  });

  it('takes answers for one slice (SLICE_MS) per turn of the event loop, then the rest in the next turns', async () => {
    // A clock that moves a slice each time it is read: every answer spends its slice.
    let clock = 0;
    const { channels, tasks } = setup(1, () => (clock += SLICE_MS));
    const task = tasks[0]!;
    task.ready();
    await settle();
    const runs = [1, 2, 3, 4].map((n) => channels.run([n]));
    await settle();
    // Counts turns of the event loop (one immediate each) until every answer is in.
    let turns = 0;
    const answeredAt: number[] = [];
    runs.forEach((run, i) => void run.then(() => (answeredAt[i] = turns)));
    const tick = (): void => {
      turns++;
      if (answeredAt.filter((turn) => turn !== undefined).length < 4) setImmediate(tick);
    };
    setImmediate(tick);
    // All four answers wait on the port before the caller's side sees the first.
    for (let i = 0; i < 4; i++) task.answer();
    expect(await Promise.all(runs)).toEqual([1, 2, 3, 4].map((n) => ['answered', n]));
    // Each answered in a later turn than the one before it.
    for (let i = 1; i < 4; i++) expect(answeredAt[i]).toBeGreaterThan(answeredAt[i - 1]!);
  });

  it('fails a batch whose reader died between its pages, and answers the next task\'s batches whole', async () => {
    const { channels, tasks } = setup(1);
    tasks[0]!.ready();
    await settle();
    const run = outcome(channels.run([1]));
    await settle();
    const messages = encodeOutcomes([{ ok: true, value: Array.from({ length: 40 }, (_, i) => i) }], 80);
    expect(messages).toHaveLength(5);
    for (const message of messages.slice(0, 2)) tasks[0]!.port.postMessage(message);
    await settle();
    tasks[0]!.die();
    expect(await run).toEqual({ error: expect.objectContaining({ message: 'worker exited with code: 1' }) });
    await settle();
    const next = tasks[1]!;
    next.ready();
    await settle();
    const again = channels.run([2]);
    await settle();
    next.answer();
    expect(await again).toEqual(['answered', 2]);
  });

  it('uses a reader still starting when none is ready: the batch waits for it', async () => {
    const { channels, tasks } = setup(2);
    const run = channels.run([1]);
    await settle();
    expect(tasks[0]!.batches).toEqual([[1]]);
    tasks[0]!.ready();
    tasks[0]!.answer();
    expect(await run).toEqual(['answered', 1]);
  });

  it('holds the process open through a port only while that port has batches', async () => {
    const { channels, tasks } = setup(1);
    const reader = tasks[0]!;
    reader.ready();
    await settle();
    const idle = referencedPorts();
    const first = channels.run([1]);
    expect(referencedPorts()).toBe(idle + 1);
    const second = channels.run([2]);
    expect(referencedPorts()).toBe(idle + 1);
    await settle();
    reader.answer();
    await first;
    expect(referencedPorts()).toBe(idle + 1);
    reader.answer();
    await second;
    expect(referencedPorts()).toBe(idle);
  });

  it('a reader that dies fails only its own unanswered batches; a new serve task takes its place and counts once ready', async () => {
    const { channels, tasks } = setup(2);
    const [a, b] = tasks as [FakeTask, FakeTask];
    a.ready();
    b.ready();
    await settle();
    const first = channels.run([1]);
    const onB = channels.run([2]);
    const onA = [first, channels.run([3])];
    await settle();
    expect(a.batches).toEqual([[1], [3]]);
    // It answered one before it died: that one stands.
    a.answer();
    a.die();
    expect(await Promise.all(onA.map(outcome))).toEqual([
      { ok: ['answered', 1] },
      { error: { message: 'worker exited with code: 1', code: undefined, cause: undefined } },
    ]);
    expect(tasks.length).toBe(3);
    expect(channels.started).toBe(2);
    tasks[2]!.ready();
    await settle();
    expect(channels.started).toBe(3);
    b.answer();
    expect(await onB).toEqual(['answered', 2]);
    // The new task serves.
    const next = channels.run([4]);
    const more = channels.run([5]);
    await settle();
    expect(tasks[2]!.batches.length + b.batches.length).toBe(2);
    for (const task of [tasks[2]!, b]) while (task.batches.length > 0) task.answer();
    expect(await Promise.all([next, more])).toEqual([['answered', 4], ['answered', 5]]);
  });

  it('gives a serve task whose thread died before it was ready again, with the batches it was sent', async () => {
    const { channels, tasks } = setup(1);
    const run = channels.run([1]);
    await settle();
    expect(tasks[0]!.batches).toEqual([[1]]);
    tasks[0]!.die();
    await until(() => tasks.length === 2);
    await settle();
    expect(tasks[1]!.batches).toEqual([[1]]);
    tasks[1]!.ready();
    tasks[1]!.answer();
    expect(await run).toEqual(['answered', 1]);
    expect(channels.started).toBe(1);
  });

  it('gives up on a reader after five serve tasks in a row died before it was ready, failing its batches WORKER_CRASHED with the cause', async () => {
    const { channels, tasks } = setup(1);
    const run = outcome(channels.run([1]));
    const cause = new Error('Worker terminated due to reaching memory limit');
    for (let i = 0; i < 5; i++) {
      await until(() => tasks.length === i + 1);
      tasks[i]!.die(cause);
    }
    expect(await run).toEqual({
      error: { message: 'reader thread could not start: Worker terminated due to reaching memory limit', code: 'WORKER_CRASHED', cause },
    });
    await settle(20);
    expect(tasks.length).toBe(5);
  });

  it('counts deaths before ready only in a row: a ready reader starts the count again', async () => {
    const { channels, tasks } = setup(1);
    for (let i = 0; i < 4; i++) {
      await until(() => tasks.length === i + 1);
      tasks[i]!.die();
    }
    await until(() => tasks.length === 5);
    tasks[4]!.ready();
    await settle();
    tasks[4]!.die();
    for (let i = 5; i < 9; i++) {
      await until(() => tasks.length === i + 1);
      tasks[i]!.die();
    }
    await until(() => tasks.length === 10);
    expect(channels.started).toBe(1);
  });

  it('after giving up on a reader, the next read that finds none running starts them again', async () => {
    const { channels, tasks } = setup(1);
    const first = outcome(channels.run([1]));
    for (let i = 0; i < 5; i++) {
      await until(() => tasks.length === i + 1);
      tasks[i]!.die();
    }
    expect(await first).toMatchObject({ error: { code: 'WORKER_CRASHED' } });
    const second = channels.run([2]);
    expect(tasks.length).toBe(6);
    await settle();
    tasks[5]!.ready();
    tasks[5]!.answer();
    expect(await second).toEqual(['answered', 2]);
  });

  it('a reader whose connection cannot open fails its batches with that error at once, and is tried again by a read that finds no reader', async () => {
    const { channels, tasks } = setup(2);
    const [a, b] = tasks as [FakeTask, FakeTask];
    const error: WireError = { code: 'IO_ERROR', message: 'cannot open database /x.db: file does not exist', sqliteCode: 'SQLITE_CANTOPEN' };
    const onA = outcome(channels.run([1]));
    const onB = outcome(channels.run([2]));
    await settle();
    a.cannotOpen(error);
    b.cannotOpen(error);
    expect(await onA).toEqual({ error: { message: error.message, code: 'IO_ERROR', cause: undefined } });
    expect(await onB).toMatchObject({ error: { code: 'IO_ERROR' } });
    await settle(20);
    // Not tried again in a loop: no task until a read comes.
    expect(tasks.length).toBe(2);
    const again = channels.run([3]);
    expect(tasks.length).toBe(4);
    await settle();
    tasks[2]!.ready();
    tasks[3]!.ready();
    await settle();
    for (const task of tasks.slice(2)) while (task.batches.length > 0) task.answer();
    expect(await again).toEqual(['answered', 3]);
  });

  it('leaves a reader given up on alone while another serves: only a read that finds none running starts it', async () => {
    const { channels, tasks } = setup(2);
    const [a, b] = tasks as [FakeTask, FakeTask];
    a.ready();
    b.cannotOpen({ code: 'IO_ERROR', message: 'cannot open database /x.db: file does not exist' });
    await settle();
    const read = channels.run([1]);
    expect(tasks.length).toBe(2);
    await settle();
    a.answer();
    expect(await read).toEqual(['answered', 1]);
    expect(tasks.length).toBe(2);
  });

  it('withdraws the serve tasks that wait for a thread nothing will start, and gives them again', async () => {
    const { pool, tasks } = setup(2);
    const [a, b] = tasks as [FakeTask, FakeTask];
    a.ready();
    await settle();
    // A thread was lost and nothing is stranded: b's task keeps waiting.
    pool.lost(false, undefined);
    expect(b.signal.aborted).toBe(false);
    pool.lost(true, new Error('Cannot find module reader.js'));
    // a is ready: left alone. b's task is withdrawn and given again.
    expect(a.signal.aborted).toBe(false);
    expect(b.signal.aborted).toBe(true);
    await until(() => tasks.length === 3);
    expect(tasks[2]!.signal.aborted).toBe(false);
  });

  it('gives up on a reader whose tasks were stranded five times in a row, with the lost thread\'s error as the cause', async () => {
    const { pool, channels, tasks } = setup(1);
    const read = outcome(channels.run([1]));
    const booting = new Error('Cannot find module reader.js');
    for (let i = 0; i < 5; i++) {
      await until(() => tasks.length === i + 1);
      pool.lost(true, booting);
    }
    expect(await read).toEqual({
      error: { message: 'reader thread could not start: Cannot find module reader.js', code: 'WORKER_CRASHED', cause: booting },
    });
    await settle(20);
    expect(tasks.length).toBe(5);
  });

  it('destroy closes every port, so the serve tasks end, fails what they left unanswered, and closes the pool; later runs reject CLOSED', async () => {
    const { pool, channels, tasks } = setup(2);
    const [a, b] = tasks as [FakeTask, FakeTask];
    a.ready();
    b.ready();
    await settle();
    const ended = new Promise((resolve) => a.port.once('close', resolve));
    await channels.destroy();
    expect(pool.closed).toBe(true);
    await ended;
    expect(await outcome(channels.run([1]))).toMatchObject({ error: { code: 'CLOSED' } });
    expect(tasks.length).toBe(2);
  });
});

describe('reader channels closed while a reader waits to start again', () => {
  it('fail the batches it held CLOSED and start no task for it', async () => {
    const { channels, tasks } = setup(1);
    const read = outcome(channels.run([1]));
    await settle();
    tasks[0]!.die();
    await settle();
    await channels.destroy();
    expect(await read).toMatchObject({ error: { code: 'CLOSED' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tasks.length).toBe(1);
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}

describe("a reader thread's serve task", () => {
  const batch = (id: string): ReadBatchRequest => {
    const request: ReadBatchRequest = [];
    appendCall(request, 'tasks.get', [id]);
    return request;
  };

  it('says it is ready once its connection is open, answers each batch in order, and ends when its port closes', async () => {
    const db = freshDatabase();
    db.prepare("INSERT INTO tasks (id, prompt, input_data) VALUES ('t1', 'p', '{}')").run();
    const { port1, port2 } = new MessageChannel();
    const messages: unknown[] = [];
    const got = new Promise<void>((resolve) => {
      port1.on('message', (message: unknown) => {
        messages.push(message);
        if (messages.length === 3) resolve();
      });
    });
    const serving = serveReads({ config: { path: db.name, busyTimeoutMs: 1000 }, nice: 0, port: port2 });
    port1.postMessage(batch('t1'));
    port1.postMessage(batch('none'));
    await got;
    expect(messages[0]).toBe(READER_READY);
    const [first, second] = messages.slice(1) as ReadBatchResponse[];
    expect(first![0]).toBe(1);
    expect(first![1]).toMatchObject({ id: 't1' });
    expect(second).toEqual([1, undefined]);
    port1.close();
    await serving;
  });

  it('says why instead of ready when its connection cannot open, and ends', async () => {
    const path = tempDbPath('absent.db');
    const { port1, port2 } = new MessageChannel();
    const first = new Promise((resolve) => port1.once('message', resolve));
    await serveReads({ config: { path, busyTimeoutMs: 100 }, nice: 0, port: port2 });
    expect(await first).toEqual({
      failed: expect.objectContaining({ code: 'IO_ERROR', sqliteCode: 'SQLITE_CANTOPEN', message: expect.stringContaining(path) }),
    });
    port1.close();
  });
});
