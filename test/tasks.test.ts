import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('tasks', (engine) => {
  it('creates a pending task with defaults and reads it back, with its session', async () => {
    const store = await engine.open();
    const session = await store.sessions.create({ appName: 'a', userId: 'u' });
    const task = await store.tasks.create({ prompt: 'summarise', inputData: { doc: 'x' }, sessionId: session.id, createdBy: 'planner' });
    expect(task).toMatchObject({ prompt: 'summarise', inputData: { doc: 'x' }, agentType: 'general', priority: 5, status: 'pending', retryCount: 0, maxRetries: 3, maxExecutionTimeoutSeconds: 3600, dependencies: [], resultData: null, startedAt: null, sessionId: session.id, createdBy: 'planner' });
    expect(await store.tasks.get(task.id)).toEqual(task);
    // The session comes without its event log: a task's reader wants the session, not its history.
    const { events, ...info } = session;
    expect(events).toEqual([]);
    expect(await store.tasks.getWithSession(task.id)).toEqual({ task, session: info });
    const loose = await store.tasks.create({ prompt: 'p', inputData: null });
    expect((await store.tasks.getWithSession(loose.id))?.session).toBeNull();
    expect(await store.tasks.getWithSession('missing')).toBeUndefined();
  });

  it('rejects unknown sessions, parents and dependencies, and duplicate ids', async () => {
    const store = await engine.open();
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, sessionId: 'ghost' })).rejects.toMatchObject({ code: 'NOT_FOUND', ...engine.native('SQLITE_CONSTRAINT_FOREIGNKEY') });
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, parentTaskId: 'ghost' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, dependencies: ['ghost'] })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('ghost') });
    await store.tasks.create({ id: 't', prompt: 'p', inputData: 1 });
    await expect(store.tasks.create({ id: 't', prompt: 'p', inputData: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, priority: 11 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.create({ prompt: 'p' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.create({ prompt: 'p', inputData: 1, dependencies: 't' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('claimNext takes the highest priority first, oldest first within a priority, down to the lowest', async () => {
    const store = await engine.open();
    for (const [id, priority] of [['lowest', 10], ['low', 9], ['mid-1', 5], ['high', 1], ['mid-2', 5]] as const) {
      await store.tasks.create({ id, prompt: id, inputData: {}, priority });
    }
    const order: string[] = [];
    for (let task = await store.tasks.claimNext(); task !== undefined; task = await store.tasks.claimNext()) {
      expect(task.status).toBe('running');
      expect(task.startedAt).toMatch(/Z$/);
      order.push(task.id);
    }
    expect(order).toEqual(['high', 'mid-1', 'mid-2', 'low', 'lowest']);
  });

  it('claimNext filters by agent type and waits for dependencies to complete', async () => {
    const store = await engine.open();
    const first = await store.tasks.create({ id: 'first', prompt: 'p', inputData: {}, priority: 5 });
    await store.tasks.create({ id: 'second', prompt: 'p', inputData: {}, priority: 1, dependencies: [first.id] });
    await store.tasks.create({ id: 'review', prompt: 'p', inputData: {}, agentType: 'reviewer', priority: 1 });
    expect((await store.tasks.claimNext({ agentType: 'general' }))?.id).toBe('first');
    expect(await store.tasks.claimNext({ agentType: 'general' })).toBeUndefined();
    expect((await store.tasks.claimNext({ agentType: 'reviewer' }))?.id).toBe('review');
    await store.tasks.complete('first', { ok: true });
    expect((await store.tasks.claimNext())?.id).toBe('second');
  });

  it('complete, fail with retries, and cancel set statuses, timestamps, results and errors', async () => {
    const store = await engine.open();
    const task = await store.tasks.create({ prompt: 'p', inputData: {}, maxRetries: 1 });
    await expect(store.tasks.complete(task.id, 1)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await store.tasks.claimNext();
    const retried = await store.tasks.fail(task.id, 'timeout');
    expect(retried).toMatchObject({ status: 'pending', retryCount: 1, errorMessage: 'timeout', startedAt: null, completedAt: null });
    await store.tasks.claimNext();
    const failed = await store.tasks.fail(task.id, 'timeout again');
    expect(failed).toMatchObject({ status: 'failed', retryCount: 1, errorMessage: 'timeout again' });
    expect(failed.completedAt).toMatch(/Z$/);
    await expect(store.tasks.cancel(task.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });

    const other = await store.tasks.create({ prompt: 'p', inputData: {} });
    await store.tasks.claimNext();
    const noRetry = await store.tasks.fail(other.id, 'bad input', { retry: false });
    expect(noRetry).toMatchObject({ status: 'failed', retryCount: 0 });

    const done = await store.tasks.create({ prompt: 'p', inputData: {} });
    await store.tasks.claimNext();
    const completed = await store.tasks.complete(done.id, { answer: 42 });
    expect(completed).toMatchObject({ status: 'completed', resultData: { answer: 42 } });
    expect(completed.completedAt).toMatch(/Z$/);

    const cancelled = await store.tasks.cancel((await store.tasks.create({ prompt: 'p', inputData: {} })).id);
    expect(cancelled.status).toBe('cancelled');
    await expect(store.tasks.complete('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.tasks.fail('missing', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists a session’s tasks and a task’s children, page by page', async () => {
    const store = await engine.open();
    const session = await store.sessions.create({ appName: 'a', userId: 'u' });
    const parent = await store.tasks.create({ prompt: 'parent', inputData: {}, sessionId: session.id });
    const children = [];
    for (let i = 0; i < 5; i++) children.push(await store.tasks.create({ id: `c${i}`, prompt: 'child', inputData: {}, parentTaskId: parent.id, sessionId: session.id }));
    const first = await store.tasks.listChildren(parent.id, { limit: 3 });
    const second = await store.tasks.listChildren(parent.id, { limit: 3, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((t) => t.id)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(second.nextCursor).toBeUndefined();
    const bySession = [];
    let cursor: string | undefined;
    do {
      const page = await store.tasks.listBySession(session.id, { limit: 2, ...(cursor ? { cursor } : {}) });
      bySession.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(bySession.sort()).toEqual([parent.id, 'c0', 'c1', 'c2', 'c3', 'c4'].sort());
  });

  it('audits task operations under the task', async () => {
    const store = await engine.open();
    const task = await store.tasks.create({ prompt: 'p', inputData: {} });
    await store.tasks.claimNext();
    await store.tasks.complete(task.id);
    const audit = await store.audit.list({ taskId: task.id });
    expect(audit.items.map((a) => a.actionType).sort()).toEqual(['task_claim', 'task_complete', 'task_create']);
  });
});
