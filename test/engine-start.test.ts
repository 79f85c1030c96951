import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/api/options.js';
import { Engine } from '../src/sqlite/engine.js';
import type { ReadWorkers } from '../src/sqlite/read-pool.js';
import { inProcessWriters, InProcessReaders } from './helpers/in-process-store.js';
import { tempDbPath } from './helpers/temp.js';

// Engine.start on threads that run on this thread: what a start that fails leaves behind.

/** Readers of which the first `failing` cannot start: their batches reject as a reader's that never became ready. */
class FailingReaders extends InProcessReaders {
  destroyed = 0;

  override async run(): Promise<never> {
    throw new Error('reader thread could not start: worker exited with code: 1');
  }

  override destroy(): Promise<void> {
    this.destroyed++;
    return super.destroy();
  }
}

describe('Engine.start', () => {
  it('that fails because a reader cannot start closes what it started: the readers, then the writer', async () => {
    const spawnWriter = inProcessWriters();
    let readers: FailingReaders | undefined;
    const start = Engine.start(resolveOptions({ path: tempDbPath(), readers: 2 }), {
      spawnWriter,
      readers: (config, limits): ReadWorkers => (readers = new FailingReaders(config, limits.readers)),
    });
    await expect(start).rejects.toMatchObject({ code: 'WORKER_CRASHED', message: expect.stringContaining('could not start') });
    expect(readers!.destroyed).toBe(1);
    expect(readers!.threads.every((thread) => thread.threadId === -1)).toBe(true);
    expect(spawnWriter.spawned.map((thread) => thread.alive)).toEqual([false]);
  });

  it('that succeeds leaves every thread running', async () => {
    const spawnWriter = inProcessWriters();
    let readers: InProcessReaders | undefined;
    const engine = await Engine.start(resolveOptions({ path: tempDbPath(), readers: 2 }), {
      spawnWriter,
      readers: (config, limits) => (readers = new InProcessReaders(config, limits.readers)),
    });
    try {
      expect(spawnWriter.spawned.map((thread) => thread.alive)).toEqual([true]);
      expect(readers!.threads.every((thread) => thread.threadId !== -1)).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
