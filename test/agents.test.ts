import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('agents', (engine) => {
  async function withTask() {
    const store = await engine.open();
    const session = await store.sessions.create({ appName: 'a', userId: 'u' });
    const task = await store.tasks.create({ prompt: 'p', inputData: {}, sessionId: session.id });
    return { store, session, task };
  }

  it('spawns an idle agent on a task and reads it back', async () => {
    const { store, session, task } = await withTask();
    const agent = await store.agents.spawn({ name: 'coder', specialization: 'ts', taskId: task.id, model: 'large', sessionId: session.id, resourceUsage: { tokens: 0 } });
    expect(agent).toMatchObject({ name: 'coder', specialization: 'ts', taskId: task.id, model: 'large', state: 'idle', terminatedAt: null, resourceUsage: { tokens: 0 }, sessionId: session.id });
    expect(agent.spawnedAt).toMatch(/Z$/);
    expect(await store.agents.get(agent.id)).toEqual(agent);
    expect(await store.agents.get('missing')).toBeUndefined();
    await expect(store.agents.spawn({ id: agent.id, name: 'x', specialization: 'y', taskId: task.id, model: 'm' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.agents.spawn({ name: 'x', specialization: 'y', taskId: 'ghost', model: 'm' })).rejects.toMatchObject({ code: 'NOT_FOUND', ...engine.native('SQLITE_CONSTRAINT_FOREIGNKEY') });
  });

  it('spawn names every missing field in one message', async () => {
    const store = await engine.open();
    await expect(store.agents.spawn({} as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'input is missing name, specialization, taskId and model (required)',
    });
    await expect(store.agents.spawn({ name: 'coder', taskId: 't' } as never)).rejects.toMatchObject({
      message: 'input is missing specialization and model (required)',
    });
  });

  it('moves between live states and terminates once', async () => {
    const { store, task } = await withTask();
    const { id } = await store.agents.spawn({ name: 'a', specialization: 's', taskId: task.id, model: 'm' });
    expect((await store.agents.setState(id, 'working', { resourceUsage: { tokens: 10 } })).state).toBe('working');
    expect((await store.agents.setState(id, 'waiting')).resourceUsage).toEqual({ tokens: 10 });
    const terminated = await store.agents.terminate(id, { resourceUsage: { tokens: 99 } });
    expect(terminated).toMatchObject({ state: 'terminated', resourceUsage: { tokens: 99 } });
    expect(terminated.terminatedAt).toMatch(/Z$/);
    await expect(store.agents.setState(id, 'idle')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(store.agents.terminate(id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(store.agents.setState(id, 'terminated' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.agents.terminate('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const audit = await store.audit.list({ agentId: id });
    expect(audit.items.map((a) => a.actionType)).toEqual(['agent_terminate', 'agent_set_state', 'agent_set_state', 'agent_spawn']);
  });

  it('lists by session (newest first) and by task (spawn order)', async () => {
    const { store, session, task } = await withTask();
    for (let i = 0; i < 5; i++) await store.agents.spawn({ id: `a${i}`, name: `a${i}`, specialization: 's', taskId: task.id, model: 'm', sessionId: i < 3 ? session.id : undefined });
    const bySession = await store.agents.listBySession(session.id);
    expect(bySession.items.map((a) => a.id)).toEqual(['a2', 'a1', 'a0']);
    const first = await store.agents.listByTask(task.id, { limit: 2 });
    const rest = await store.agents.listByTask(task.id, { limit: 10, cursor: first.nextCursor! });
    expect([...first.items, ...rest.items].map((a) => a.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    const page1 = await store.agents.listBySession(session.id, { limit: 2 });
    const page2 = await store.agents.listBySession(session.id, { limit: 2, cursor: page1.nextCursor! });
    expect([...page1.items, ...page2.items].map((a) => a.id)).toEqual(['a2', 'a1', 'a0']);
  });
});
