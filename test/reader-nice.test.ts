import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { READER_READY, serveReads } from '../src/sqlite/reader-thread.js';
import { freshDatabase } from './helpers/database.js';

// A reader lowers its own thread's priority by `nice` on Linux. Here the priority calls are
// stubbed: the test thread's own priority stays as it is.
const priority = vi.hoisted(() => ({ current: 0, set: [] as [number, number][], refuse: false }));
vi.mock('node:os', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:os')>()),
  getPriority: () => priority.current,
  setPriority: (pid: number, value: number) => {
    if (priority.refuse) throw new Error('EACCES');
    priority.set.push([pid, value]);
  },
}));

async function serve(nice: number): Promise<void> {
  const db = freshDatabase();
  const { port1, port2 } = new MessageChannel();
  const ready = new Promise((resolve) => port1.once('message', resolve));
  const serving = serveReads({ config: { path: db.name, busyTimeoutMs: 1000 }, nice, port: port2 });
  expect(await ready).toBe(READER_READY);
  port1.close();
  await serving;
}

describe.skipIf(process.platform !== 'linux')('a reader’s priority', () => {
  afterEach(() => {
    priority.set = [];
    priority.refuse = false;
  });

  it('is its thread’s own, lowered by nice, at most to 19', async () => {
    priority.current = 2;
    await serve(5);
    expect(priority.set).toEqual([[0, 7]]);
    priority.current = 16;
    await serve(5);
    expect(priority.set).toEqual([[0, 7], [0, 19]]);
  });

  it('is left alone with nice 0, and a refusal does not stop the reader', async () => {
    await serve(0);
    expect(priority.set).toEqual([]);
    priority.refuse = true;
    await serve(3);
    expect(priority.set).toEqual([]);
  });
});
