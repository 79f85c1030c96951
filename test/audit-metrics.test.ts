import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('audit', (engine) => {
  it('writes one row per write, with the caller’s context, and memory columns for memory operations', async () => {
    const store = await engine.open();
    const task = await store.tasks.create({ id: 'task-1', prompt: 'p', inputData: {} });
    const agent = await store.agents.spawn({ id: 'agent-1', name: 'a', specialization: 's', taskId: task.id, model: 'm' });
    const ctx = { taskId: task.id, agentId: agent.id };
    const entry = await store.memory.add({ namespace: 'user:alice', key: 'k', value: 1, type: 'semantic', ctx });
    await store.memory.update('user:alice', 'k', 2, { ctx });
    await store.sessions.create({ appName: 'a', userId: 'u', ctx });
    const byAgent = await store.audit.list({ agentId: agent.id });
    expect(byAgent.items.map((a) => a.actionType)).toEqual(['session_create', 'memory_update', 'memory_create', 'agent_spawn']);
    const created = byAgent.items.find((a) => a.actionType === 'memory_create')!;
    expect(created).toMatchObject({ taskId: task.id, agentId: agent.id, memoryOperationType: 'create', memoryNamespace: 'user:alice', memoryEntryId: entry.id, result: 'ok' });
    expect(created.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await store.audit.list({ memoryOperation: 'update' })).items).toHaveLength(1);
    expect((await store.audit.list({ namespacePrefix: 'user' })).items).toHaveLength(2);
    expect((await store.audit.list({ namespacePrefix: 'user:alice2' })).items).toHaveLength(0);
    expect((await store.audit.list()).items).toHaveLength(5);
  });

  it('filters by time and pages newest first without gaps or repeats', async () => {
    const store = await engine.open();
    for (let i = 0; i < 25; i++) await store.metrics.record('m', i);
    const all: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.audit.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      all.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).toHaveLength(25);
    expect([...all].sort((a, b) => b - a)).toEqual(all);
    expect((await store.audit.list({ since: Date.now() + 60_000 })).items).toEqual([]);
    expect((await store.audit.list({ since: new Date(0) })).items).toHaveLength(25);
  });

  it('takes one filter at a time', async () => {
    const store = await engine.open();
    await expect(store.audit.list({ taskId: 't', agentId: 'a' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('one filter') });
    await expect(store.audit.list({ memoryOperation: 'archive' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a failed write leaves no audit row', async () => {
    const store = await engine.open();
    await expect(store.memory.update('user:x', 'missing', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.sessions.create({ appName: 'a', userId: 'u', ctx: { agentId: 'ghost' } })).rejects.toMatchObject({ code: 'CONSTRAINT' });
    expect((await store.audit.list()).items).toEqual([]);
  });
});

describeEachEngine('metrics', (engine) => {
  it('records non-negative values with labels and queries a time range newest first', async () => {
    const store = await engine.open();
    const start = new Date();
    const first = await store.metrics.record('latency_ms', 1.5, { labels: { op: 'get' } });
    expect(first).toMatchObject({ name: 'latency_ms', value: 1.5, labels: { op: 'get' } });
    for (let i = 0; i < 5; i++) await store.metrics.record('latency_ms', i);
    await store.metrics.record('tokens', 100);
    const page = await store.metrics.query({ name: 'latency_ms', limit: 4 });
    const rest = await store.metrics.query({ name: 'latency_ms', cursor: page.nextCursor! });
    expect([...page.items, ...rest.items].map((m) => m.value)).toEqual([4, 3, 2, 1, 0, 1.5]);
    expect((await store.metrics.query({ name: 'latency_ms', since: start, until: Date.now() + 1000 })).items).toHaveLength(6);
    expect((await store.metrics.query({ name: 'latency_ms', until: start.getTime() - 1000 })).items).toHaveLength(0);
    await expect(store.metrics.record('x', -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.metrics.record('x', Number.POSITIVE_INFINITY)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.metrics.record('x', 1, { labels: 'a' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
