import { expect, it } from 'vitest';
import type { SessionStatus } from '../src/api/types.js';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('sessions', (engine) => {
  it('creates a session with a UUID, defaults and millisecond timestamps, and reads it back', async () => {
    const store = await engine.open();
    const session = await store.sessions.create({ appName: 'planner', userId: 'alice', projectId: 'p1', state: { a: 1 }, metadata: { tier: 'pro' } });
    expect(session).toMatchObject({
      appName: 'planner',
      userId: 'alice',
      projectId: 'p1',
      status: 'created',
      events: [],
      state: { a: 1 },
      metadata: { tier: 'pro' },
      terminatedAt: null,
      archivedAt: null,
    });
    expect(session.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(session.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await store.sessions.get(session.id)).toEqual(session);
    expect(await store.sessions.get('missing')).toBeUndefined();
  });

  it('rejects a duplicate id with CONFLICT', async () => {
    const store = await engine.open();
    await store.sessions.create({ id: 'same', appName: 'a', userId: 'u' });
    await expect(store.sessions.create({ id: 'same', appName: 'b', userId: 'v' })).rejects.toMatchObject({
      code: 'CONFLICT',
      ...engine.native('SQLITE_CONSTRAINT_PRIMARYKEY'),
    });
    expect((await store.sessions.get('same'))?.appName).toBe('a');
  });

  it('appends events and merges the state delta in one step', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u', state: { keep: true, nested: { x: 1 } } });
    const first = await store.sessions.appendEvent(id, { role: 'user', text: 'hi' }, { stateDelta: { step: 1, nested: { y: 2 } } });
    expect(first.eventCount).toBe(1);
    const second = await store.sessions.appendEvent(id, { role: 'agent', text: 'hello' }, { stateDelta: { step: 2, keep: null } });
    expect(second.eventCount).toBe(2);
    expect(second.lastUpdateTime >= first.lastUpdateTime).toBe(true);
    await store.sessions.appendEvent(id, 'a bare string event');
    const session = await store.sessions.get(id);
    expect(session?.events).toEqual([{ role: 'user', text: 'hi' }, { role: 'agent', text: 'hello' }, 'a bare string event']);
    // JSON merge patch: nested objects merge, null removes.
    expect(session?.state).toEqual({ step: 2, nested: { x: 1, y: 2 } });
  });

  it('returns only the newest events with lastEvents', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    for (let i = 0; i < 10; i++) await store.sessions.appendEvent(id, { i });
    expect((await store.sessions.get(id, { lastEvents: 3 }))?.events).toEqual([{ i: 7 }, { i: 8 }, { i: 9 }]);
    expect((await store.sessions.get(id, { lastEvents: 0 }))?.events).toEqual([]);
    expect((await store.sessions.get(id, { lastEvents: 50 }))?.events).toHaveLength(10);
  });

  it('reads and writes state keys that contain colons', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'alice' });
    await store.sessions.appendEvent(id, { t: 1 }, { stateDelta: { 'user:alice:theme': 'dark', 'app:locale': 'fr' } });
    expect(await store.sessions.getState(id, 'user:alice:theme')).toBe('dark');
    const state = await store.sessions.setState(id, { 'user:alice:theme': 'light', 'temp:"quoted" $.key': 1 });
    expect(state).toEqual({ 'user:alice:theme': 'light', 'app:locale': 'fr', 'temp:"quoted" $.key': 1 });
    expect(await store.sessions.getState(id, 'temp:"quoted" $.key')).toBe(1);
    expect(await store.sessions.getState(id)).toEqual(state);
    expect(await store.sessions.getState(id, 'absent')).toBeUndefined();
    expect(await store.sessions.getState(id, 'constructor')).toBeUndefined();
    expect(await store.sessions.getState('missing')).toBeUndefined();
    await expect(store.sessions.setState('missing', { a: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('enforces the lifecycle and stamps terminated_at and archived_at', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    await expect(store.sessions.setStatus(id, 'paused')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(store.sessions.setStatus(id, 'archived')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await store.sessions.setStatus(id, 'active')).status).toBe('active');
    expect((await store.sessions.setStatus(id, 'paused')).status).toBe('paused');
    await expect(store.sessions.setStatus(id, 'paused')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await store.sessions.setStatus(id, 'active')).status).toBe('active');
    const terminated = await store.sessions.setStatus(id, 'terminated');
    expect(terminated.terminatedAt).toMatch(/Z$/);
    expect(terminated.archivedAt).toBeNull();
    await expect(store.sessions.setStatus(id, 'active')).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining('cannot move from terminated to active'),
    });
    await expect(store.sessions.appendEvent(id, { late: true })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const archived = await store.sessions.setStatus(id, 'archived');
    expect(archived.archivedAt).toMatch(/Z$/);
    expect(archived.terminatedAt).toBe(terminated.terminatedAt);
    await expect(store.sessions.appendEvent(id, { late: true })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await store.sessions.get(id))?.events).toEqual([]);
    await expect(store.sessions.setStatus('missing', 'active')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.sessions.appendEvent('missing', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each<[SessionStatus, SessionStatus]>([
    ['created', 'terminated'],
    ['paused', 'terminated'],
  ])('allows %s → %s', async (from, to) => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    if (from === 'paused') {
      await store.sessions.setStatus(id, 'active');
      await store.sessions.setStatus(id, 'paused');
    }
    expect((await store.sessions.setStatus(id, to)).status).toBe(to);
  });

  it('lists a user’s and a project’s sessions newest first, page by page', async () => {
    const store = await engine.open();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const s = await store.sessions.create({ id: `s${i}`, appName: 'a', userId: 'alice', projectId: i % 2 === 0 ? 'even' : null });
      ids.push(s.id);
    }
    await store.sessions.create({ appName: 'a', userId: 'bob' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.sessions.listByUser('alice', { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual([...ids].sort());
    const byProject = await store.sessions.listByProject('even');
    expect(byProject.items.map((s) => s.id).sort()).toEqual(['s0', 's2', 's4', 's6']);
    expect(byProject.nextCursor).toBeUndefined();
    const all = await store.sessions.listByUser('alice', { limit: 1000, lastEvents: 0 });
    const times = all.items.map((s) => s.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    await expect(store.sessions.listByUser('alice', { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.sessions.listByUser('alice', { limit: 1001 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('lists carry no events unless asked (lastEvents: n); get without it still returns the whole log', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'alice', projectId: 'p' });
    await store.sessions.appendEvents(id, [{ event: 'e1' }, { event: 'e2' }, { event: 'e3' }]);
    for (const list of [() => store.sessions.listByUser('alice'), () => store.sessions.listByProject('p')]) {
      const [listed] = (await list()).items;
      expect(listed).toMatchObject({ id, eventCount: 3, events: [] });
    }
    expect((await store.sessions.listByUser('alice', { lastEvents: 2 })).items[0]!.events).toEqual(['e2', 'e3']);
    expect((await store.sessions.listByProject('p', { lastEvents: 5 })).items[0]!.events).toEqual(['e1', 'e2', 'e3']);
    expect((await store.sessions.get(id))?.events).toEqual(['e1', 'e2', 'e3']);
    await expect(store.sessions.listByUser({} as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'userId must be a string, got an object',
    });
  });

  it('deletes a session and detaches its tasks, agents and checkpoints', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'a', userId: 'u' });
    const task = await store.tasks.create({ prompt: 'p', inputData: {}, sessionId: id });
    const agent = await store.agents.spawn({ name: 'n', specialization: 's', taskId: task.id, model: 'm', sessionId: id });
    await store.checkpoints.save({ taskId: task.id, iteration: 1, state: {}, sessionId: id });
    await store.sessions.delete(id);
    expect(await store.sessions.get(id)).toBeUndefined();
    expect((await store.tasks.get(task.id))?.sessionId).toBeNull();
    expect((await store.agents.get(agent.id))?.sessionId).toBeNull();
    expect((await store.checkpoints.get(task.id, 1))?.sessionId).toBeNull();
    await expect(store.sessions.delete(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rejects bad arguments before queueing anything', async () => {
    const store = await engine.open();
    const bad: [() => Promise<unknown>, string][] = [
      [() => store.sessions.create({ appName: '', userId: 'u' }), 'appName must not be empty'],
      [() => store.sessions.create({ appName: 'a' } as never), 'input is missing userId (required)'],
      [() => store.sessions.create({ appName: 'a', userId: 'u', state: [] as never }), 'state must be a plain object'],
      [() => store.sessions.create({ appName: 'a', userId: 'u', apName: 'x' } as never), 'unknown option "apName"'],
      [() => store.sessions.appendEvent('x', (() => 1) as never), 'event is function'],
      [() => store.sessions.appendEvent('x', { n: 10n } as never), 'event.n is bigint 10'],
      [() => store.sessions.appendEvent('x', { n: Number.NaN }), 'event.n is NaN'],
      [() => store.sessions.setStatus('x', 'sleeping' as never), 'status must be one of created, active, paused, terminated, archived'],
      [() => store.sessions.get('x', { lastEvents: -1 }), 'lastEvents must be an integer'],
    ];
    for (const [call, message] of bad) {
      await expect(call()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(store.sessions.appendEvent('x', cyclic as never)).rejects.toMatchObject({
      message: expect.stringContaining('cycle'),
    });
    expect((await store.audit.list()).items).toEqual([]);
  });
});
