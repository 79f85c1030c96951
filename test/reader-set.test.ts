import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { ReadBatchRequest, ReadBatchResponse } from '../src/sqlite/protocol.js';
import { appendCall } from '../src/sqlite/protocol.js';
import { ReaderSet, type ReaderChannel, type ReaderEvents } from '../src/sqlite/reader-set.js';
import { READER_READY, serveReads } from '../src/sqlite/reader-thread.js';
import { freshDatabase } from './helpers/database.js';

// The reader set's dispatch, answers, deaths and replacements, over channels that stand
// in for reader threads: the test says when each is ready, answers or dies.

let nextId = 1;

class FakeReader implements ReaderChannel {
  threadId = nextId++;
  readonly posted: ReadBatchRequest[] = [];
  refed = true;
  readonly events: ReaderEvents;

  constructor(events: ReaderEvents) {
    this.events = events;
  }

  post(request: ReadBatchRequest): void {
    this.posted.push(request);
  }

  ref(): void {
    this.refed = true;
  }

  unref(): void {
    this.refed = false;
  }

  /** Answers its oldest batch with the batch itself, marked. */
  answer(): void {
    const request = this.posted.shift()!;
    this.events.answer(['answered', ...request]);
  }

  terminate(): Promise<number> {
    this.threadId = -1;
    this.events.exit(`reader thread ${this.threadId} exited with code 1`);
    return Promise.resolve(1);
  }
}

function setup(count: number) {
  const spawned: FakeReader[] = [];
  const set = new ReaderSet((events) => {
    const reader = new FakeReader(events);
    spawned.push(reader);
    return reader;
  }, count);
  return { set, spawned };
}

const settled = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    return await promise;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('reader set', () => {
  it('sends each batch to the ready reader with the fewest batches, and answers them in order', async () => {
    const { set, spawned } = setup(3);
    const [a, b, c] = spawned as [FakeReader, FakeReader, FakeReader];
    expect(set.started).toBe(0);
    b.events.ready();
    c.events.ready();
    expect(set.started).toBe(2);
    // a is still starting: it gets nothing while b and c are ready.
    const runs = [1, 2, 3, 4].map((n) => set.run([n]));
    expect(a.posted).toEqual([]);
    expect(b.posted).toEqual([[1], [3]]);
    expect(c.posted).toEqual([[2], [4]]);
    a.events.ready();
    const fifth = set.run([5]);
    expect(a.posted).toEqual([[5]]);
    b.answer();
    b.answer();
    c.answer();
    c.answer();
    a.answer();
    expect(await Promise.all([...runs, fifth])).toEqual([1, 2, 3, 4, 5].map((n) => ['answered', n]));
    expect(set.threads).toEqual([a, b, c]);
  });

  it('uses a reader still starting when none is ready: the batch waits for it', async () => {
    const { set, spawned } = setup(2);
    const run = set.run([1]);
    expect(spawned[0]!.posted).toEqual([[1]]);
    spawned[0]!.events.ready();
    spawned[0]!.answer();
    expect(await run).toEqual(['answered', 1]);
  });

  it('holds a reader referenced only while it has batches', async () => {
    const { set, spawned } = setup(1);
    const reader = spawned[0]!;
    reader.events.ready();
    expect(reader.refed).toBe(false);
    const first = set.run([1]);
    const second = set.run([2]);
    expect(reader.refed).toBe(true);
    reader.answer();
    expect(reader.refed).toBe(true);
    reader.answer();
    expect(reader.refed).toBe(false);
    await Promise.all([first, second]);
  });

  it('a reader that dies fails only its own batches, and a replacement counts once it is ready', async () => {
    const { set, spawned } = setup(2);
    const [a, b] = spawned as [FakeReader, FakeReader];
    a.events.ready();
    b.events.ready();
    const first = set.run([1]);
    const onB = set.run([2]);
    const onA = [first, set.run([3])];
    expect(a.posted).toEqual([[1], [3]]);
    await a.terminate();
    expect(await Promise.all(onA.map(settled))).toEqual(['reader thread -1 exited with code 1', 'reader thread -1 exited with code 1']);
    expect(spawned).toHaveLength(3);
    expect(set.threads).toEqual([b, spawned[2]]);
    expect(set.started).toBe(2);
    spawned[2]!.events.ready();
    expect(set.started).toBe(3);
    b.answer();
    expect(await onB).toEqual(['answered', 2]);
  });

  it('stops replacing readers that die before they are ready, five in a row, and then fails batches at once', async () => {
    const { set, spawned } = setup(1);
    for (let i = 0; i < 4; i++) await spawned.at(-1)!.terminate();
    expect(spawned).toHaveLength(5);
    // A fifth death while starting: no more replacements.
    const pending = set.run([1]);
    await spawned.at(-1)!.terminate();
    expect(await settled(pending)).toBe('reader thread -1 exited with code 1');
    expect(spawned).toHaveLength(5);
    expect(set.threads).toEqual([]);
    expect(await settled(set.run([2]))).toBe('no reader thread is running (the last one reader thread -1 exited with code 1)');
  });

  it('counts deaths while starting only in a row: a ready reader resets the count', async () => {
    const { set, spawned } = setup(1);
    for (let i = 0; i < 4; i++) await spawned.at(-1)!.terminate();
    spawned.at(-1)!.events.ready();
    for (let i = 0; i < 4; i++) await spawned.at(-1)!.terminate();
    expect(spawned).toHaveLength(9);
    expect(set.threads).toHaveLength(1);
  });

  it('destroy ends every reader, holding each referenced, and replaces none', async () => {
    const { set, spawned } = setup(2);
    for (const reader of spawned) reader.events.ready();
    const refs: boolean[] = [];
    for (const reader of spawned) {
      const terminate = reader.terminate.bind(reader);
      reader.terminate = () => {
        refs.push(reader.refed);
        return terminate();
      };
    }
    await set.destroy();
    expect(refs).toEqual([true, true]);
    expect(spawned).toHaveLength(2);
    expect(set.threads).toEqual([]);
  });
});

describe('a reader thread\'s loop', () => {
  it('says it is ready once its connection is open, then answers each batch in order', async () => {
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
    serveReads({ config: { path: db.name, busyTimeoutMs: 1000 }, nice: 0, port: port2 });
    const batch = (id: string): ReadBatchRequest => {
      const request: ReadBatchRequest = [];
      appendCall(request, 'tasks.get', [id]);
      return request;
    };
    port1.postMessage(batch('t1'));
    port1.postMessage(batch('none'));
    await got;
    port1.close();
    expect(messages[0]).toBe(READER_READY);
    const [first, second] = messages.slice(1) as ReadBatchResponse[];
    expect(first![0]).toBe(1);
    expect(first![1]).toMatchObject({ id: 't1' });
    expect(second).toEqual([1, undefined]);
  });
});
