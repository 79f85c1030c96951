import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { openTestStore, settleAll } from './helpers/store.js';

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

  it('resolves a write only after its commit: a reader issued afterwards sees it', async () => {
    const store = await openTestStore();
    const created = await store.sessions.create({ appName: 'gc', userId: 'u' });
    expect(await store.sessions.get(created.id)).toEqual(created);
  });
});
