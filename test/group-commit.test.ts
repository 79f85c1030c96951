import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import type { Store } from '../src/store.js';
import { openInProcessStore } from './helpers/in-process-store.js';
import { openTestStore, settleAll } from './helpers/store.js';

/**
 * Issues `count` session creates at once and, the moment each promise resolves, looks
 * for its row through a connection of this test's own: a write acknowledged before its
 * COMMIT is not there yet. Returns the ids resolved while their row was missing.
 */
async function acknowledgedBeforeCommit(store: Store, count: number): Promise<string[]> {
  const outside = new Database(store.path, { readonly: true });
  const committed = outside.prepare('SELECT 1 FROM sessions WHERE id = ?').pluck();
  const early: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        store.sessions.create({ id: `ack${i}`, appName: 'gc', userId: 'u' }).then(({ id }) => {
          if (committed.get(id) === undefined) early.push(id);
        }),
      ),
    );
  } finally {
    outside.close();
  }
  return early;
}

describe('group commit through the store', () => {
  it('commits queued writes together; a constraint violation rejects alone and the rest commit', async () => {
    const store = await openTestStore();
    // Occupy the writer so the next writes queue up and go over as one batch.
    const first = store.sessions.create({ id: 'first', appName: 'gc', userId: 'u' });
    const writes = Array.from({ length: 50 }, (_, i) =>
      store.sessions.create({
        id: `s${i}`,
        appName: 'gc',
        userId: 'u',
        // An audit context naming a task that does not exist violates audit's foreign key.
        ...(i === 25 ? { ctx: { taskId: 'no-such-task' } } : {}),
      }),
    );
    await first;
    const { values, errors } = await settleAll(writes);
    expect(values).toHaveLength(49);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreError);
    expect(errors[0]).toMatchObject({ code: 'CONSTRAINT', sqliteCode: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(store.stats().batches.write.max).toBeGreaterThanOrEqual(25);
    for (let i = 0; i < 50; i++) {
      const session = await store.sessions.get(`s${i}`);
      if (i === 25) expect(session).toBeUndefined();
      else expect(session?.id).toBe(`s${i}`);
    }
  });

  // The writer answers a batch only after its COMMIT, and the caller's promise settles
  // only on that answer. Checked at the instant each promise resolves, from outside the
  // store; in-process the writer's answer is a turn of the event loop away, so a promise
  // settled any earlier is caught every time, not by luck of thread timing.
  it('resolves each write only after its batch committed (in-process writer)', async () => {
    const store = await openInProcessStore();
    expect(await acknowledgedBeforeCommit(store, 64)).toEqual([]);
    expect(store.stats().batches.write.max).toBeGreaterThan(1);
  });

  it('resolves each write only after its batch committed (writer thread)', async () => {
    const store = await openTestStore();
    expect(await acknowledgedBeforeCommit(store, 64)).toEqual([]);
  });
});
