import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('checkpoints', (engine) => {
  it('saves per iteration, refuses a duplicate, and reads one, the latest, or a page', async () => {
    const store = await engine.open();
    const task = await store.tasks.create({ prompt: 'p', inputData: {} });
    for (let i = 0; i < 5; i++) await store.checkpoints.save({ taskId: task.id, iteration: i, state: { cursor: i * 10 } });
    await expect(store.checkpoints.save({ taskId: task.id, iteration: 2, state: {} })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.checkpoints.get(task.id, 2))?.state).toEqual({ cursor: 20 });
    expect(await store.checkpoints.get(task.id, 9)).toBeUndefined();
    expect((await store.checkpoints.latest(task.id))?.iteration).toBe(4);
    expect(await store.checkpoints.latest('other')).toBeUndefined();
    const first = await store.checkpoints.list(task.id, { limit: 3 });
    const rest = await store.checkpoints.list(task.id, { cursor: first.nextCursor! });
    expect([...first.items, ...rest.items].map((c) => c.iteration)).toEqual([4, 3, 2, 1, 0]);
    await expect(store.checkpoints.save({ taskId: 'ghost', iteration: 0, state: {} })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.checkpoints.save({ taskId: task.id, iteration: -1, state: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describeEachEngine('legacy task state', (engine) => {
  it('sets, replaces and gets values per task and key', async () => {
    const store = await engine.open();
    const task = await store.tasks.create({ prompt: 'p', inputData: {} });
    const first = await store.state.set(task.id, 'progress', { done: 1 });
    expect(first).toMatchObject({ taskId: task.id, key: 'progress', value: { done: 1 } });
    const second = await store.state.set(task.id, 'progress', { done: 2 });
    expect(second.id).toBe(first.id);
    expect(second.createdAt).toBe(first.createdAt);
    expect(await store.state.get(task.id, 'progress')).toEqual({ done: 2 });
    expect(await store.state.get(task.id, 'absent')).toBeUndefined();
    await expect(store.state.set('ghost', 'k', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.state.set(task.id, 'k', undefined as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
