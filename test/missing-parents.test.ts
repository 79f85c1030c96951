import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

// A write that names a row of another table that is not there (a checkpoint's task, a
// task's session) rejects NOT_FOUND naming the field and the id, on both engines, and
// writes nothing; the engine's own code stays on the error and its error as the cause.

describeEachEngine('a write naming a missing parent row', (engine) => {
  async function seeded() {
    const store = await engine.open();
    const session = await store.sessions.create({ appName: 'a', userId: 'u' });
    const task = await store.tasks.create({ prompt: 'p', inputData: {} });
    return { store, session, task };
  }

  it('is NOT_FOUND naming the field and the id, with the foreign key as the native code, and writes nothing', async () => {
    const { store, session, task } = await seeded();
    const before = await engine.fingerprint(store);
    const cases: [string, () => Promise<unknown>, string][] = [
      ['checkpoints.save taskId', () => store.checkpoints.save({ taskId: 'ghost-task', iteration: 1, state: {} }), 'taskId names task ghost-task, which does not exist'],
      [
        'checkpoints.save sessionId',
        () => store.checkpoints.save({ taskId: task.id, iteration: 1, state: {}, sessionId: 'ghost-session' }),
        'sessionId names session ghost-session, which does not exist',
      ],
      ['state.set', () => store.state.set('ghost-task', 'k', 1), 'taskId names task ghost-task, which does not exist'],
      [
        'agents.spawn taskId',
        () => store.agents.spawn({ name: 'n', specialization: 's', taskId: 'ghost-task', model: 'm' }),
        'taskId names task ghost-task, which does not exist',
      ],
      [
        'agents.spawn sessionId',
        () => store.agents.spawn({ name: 'n', specialization: 's', taskId: task.id, model: 'm', sessionId: 'ghost-session' }),
        'sessionId names session ghost-session, which does not exist',
      ],
      ['tasks.create sessionId', () => store.tasks.create({ prompt: 'p', inputData: 1, sessionId: 'ghost-session' }), 'sessionId names session ghost-session, which does not exist'],
      ['tasks.create parentTaskId', () => store.tasks.create({ prompt: 'p', inputData: 1, parentTaskId: 'ghost-task' }), 'parentTaskId names task ghost-task, which does not exist'],
    ];
    for (const [name, call, message] of cases) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toMatchObject({ code: 'NOT_FOUND', message, ...engine.native('SQLITE_CONSTRAINT_FOREIGNKEY') });
      expect((error as Error).cause, name).toBeInstanceOf(Error);
    }
    expect(await engine.fingerprint(store)).toBe(before);
    // The rows that are there are found: the same calls naming them succeed.
    await store.checkpoints.save({ taskId: task.id, iteration: 1, state: {}, sessionId: session.id });
    await store.agents.spawn({ name: 'n', specialization: 's', taskId: task.id, model: 'm', sessionId: session.id });
  });

  it('a missing dependency is NOT_FOUND in the same words', async () => {
    const { store, task } = await seeded();
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, dependencies: [task.id, 'ghost-task'] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'dependencies names task ghost-task, which does not exist',
    });
  });

  it('names the one that is missing when the write names two, and the first declared when both are', async () => {
    const { store, session, task } = await seeded();
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, parentTaskId: task.id, sessionId: 'ghost-session' })).rejects.toMatchObject({
      message: 'sessionId names session ghost-session, which does not exist',
    });
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, parentTaskId: 'ghost-task', sessionId: session.id })).rejects.toMatchObject({
      message: 'parentTaskId names task ghost-task, which does not exist',
    });
  });

  it('an audit context naming a missing task is still the foreign key’s CONSTRAINT: it is no row the write itself names', async () => {
    const { store, task } = await seeded();
    await expect(store.state.set(task.id, 'k', 1, { ctx: { taskId: 'ghost-task' } })).rejects.toMatchObject({
      code: 'CONSTRAINT',
      ...engine.native('SQLITE_CONSTRAINT_FOREIGNKEY'),
    });
  });
});
