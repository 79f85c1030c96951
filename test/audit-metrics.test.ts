import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

/** A timestamp as the store writes it: ISO 8601, UTC, milliseconds. */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

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

describeEachEngine('what each write audits', (engine) => {
  it('records each write’s action, its data, result, task, agent and memory entry, exactly', async () => {
    const store = await engine.open();
    const session = await store.sessions.create({ id: 's1', appName: 'a', userId: 'u' });
    await store.sessions.setStatus(session.id, 'active');
    await store.sessions.setState(session.id, { a: 1 });
    await store.sessions.appendEvent(session.id, { e: 1 });
    await store.sessions.appendEvent(session.id, { e: 2 }, { stateDelta: { b: 2 } });
    await store.sessions.appendEvents(session.id, [{ event: { e: 3 } }, { event: { e: 4 } }]);
    await store.sessions.appendEvents(session.id, [{ event: { e: 5 } }], { stateDelta: { c: 3 } });
    const task = await store.tasks.create({ id: 't1', prompt: 'p', inputData: {}, priority: 3, agentType: 'coder' });
    const agent = await store.agents.spawn({ id: 'g1', name: 'n', specialization: 's', taskId: task.id, model: 'm' });
    await store.agents.setState(agent.id, 'working');
    await store.agents.terminate(agent.id);
    await store.tasks.claimNext({ agentType: 'coder' });
    await store.tasks.complete(task.id, { done: true });
    await store.tasks.create({ id: 't2', prompt: 'p', inputData: {} });
    await store.tasks.cancel('t2');
    await store.tasks.create({ id: 't3', prompt: 'p', inputData: {} });
    await store.tasks.claimNext();
    const failed = await store.tasks.fail('t3', 'boom');
    await store.state.set(task.id, 'k', 1);
    await store.checkpoints.save({ taskId: task.id, iteration: 1, state: {} });
    await store.metrics.record('m', 2);
    await store.documents.upsert({ filePath: 'd.md', title: 't', contentHash: 'h1' });
    await store.documents.upsert({ filePath: 'd.md', title: 't', contentHash: 'h1' });
    await store.documents.upsert({ filePath: 'd.md', title: 't', contentHash: 'h2' });
    await store.documents.markSynced('d.md', { embedding: new Float32Array([1, 2, 3]), embeddingModel: 'e' });
    await store.documents.markSynced('d.md');
    await store.documents.delete('d.md');
    const k1 = await store.memory.add({ namespace: 'user:u', key: 'k', value: 1, type: 'semantic' });
    const k2 = await store.memory.update('user:u', 'k', 2);
    await store.memory.rollback('user:u', 'k');
    const k3 = await store.memory.update('user:u', 'k', 3);
    await store.memory.delete('user:u', 'k');
    await store.sessions.delete(session.id);

    const rows = [];
    for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
      const page = await store.audit.list({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      rows.push(...page.items);
      cursor = page.nextCursor;
    }
    const seen = rows.reverse().map(({ id: _, timestamp: __, ...entry }) => entry);
    const entry = (actionType: string, actionData: unknown, more: Record<string, unknown> = {}) => ({
      agentId: null, taskId: null, actionType, actionData, result: 'ok', memoryOperationType: null, memoryNamespace: null, memoryEntryId: null, ...more,
    });
    const memory = (type: string, id: number) => ({ memoryOperationType: type, memoryNamespace: 'user:u', memoryEntryId: id });
    expect(seen).toEqual([
      entry('session_create', { sessionId: 's1' }),
      entry('session_set_status', { sessionId: 's1', from: 'created', to: 'active' }),
      entry('session_set_state', { sessionId: 's1' }),
      entry('session_append_event', { sessionId: 's1', seq: 1, stateDelta: false }),
      entry('session_append_event', { sessionId: 's1', seq: 2, stateDelta: true }),
      entry('session_append_events', { sessionId: 's1', firstSeq: 3, count: 2, stateDelta: false }),
      entry('session_append_events', { sessionId: 's1', firstSeq: 5, count: 1, stateDelta: true }),
      entry('task_create', { taskId: 't1', priority: 3, agentType: 'coder' }, { taskId: 't1' }),
      entry('agent_spawn', { agentId: 'g1', taskId: 't1', model: 'm' }, { agentId: 'g1', taskId: 't1' }),
      entry('agent_set_state', { agentId: 'g1', state: 'working' }, { agentId: 'g1' }),
      entry('agent_terminate', { agentId: 'g1' }, { agentId: 'g1', result: 'terminated' }),
      entry('task_claim', { taskId: 't1', priority: 3, agentType: 'coder', claimedBy: null, leaseExpiresAt: expect.stringMatching(ISO) }, { taskId: 't1' }),
      entry('task_complete', { taskId: 't1' }, { taskId: 't1', result: 'completed' }),
      entry('task_create', { taskId: 't2', priority: 5, agentType: 'general' }, { taskId: 't2' }),
      entry('task_cancel', { taskId: 't2' }, { taskId: 't2', result: 'cancelled' }),
      entry('task_create', { taskId: 't3', priority: 5, agentType: 'general' }, { taskId: 't3' }),
      entry('task_claim', { taskId: 't3', priority: 5, agentType: 'general', claimedBy: null, leaseExpiresAt: expect.stringMatching(ISO) }, { taskId: 't3' }),
      entry('task_fail', { taskId: 't3', error: 'boom', retryCount: failed.retryCount }, { taskId: 't3', result: failed.status }),
      entry('state_set', { taskId: 't1', key: 'k' }, { taskId: 't1' }),
      entry('checkpoint_save', { taskId: 't1', iteration: 1 }, { taskId: 't1' }),
      entry('metric_record', { name: 'm', value: 2 }),
      entry('document_upsert', { filePath: 'd.md', created: true, contentChanged: false }),
      entry('document_upsert', { filePath: 'd.md', created: false, contentChanged: false }),
      entry('document_upsert', { filePath: 'd.md', created: false, contentChanged: true }),
      entry('document_mark_synced', { filePath: 'd.md', dimensions: 3, model: 'e' }),
      entry('document_mark_synced', { filePath: 'd.md', dimensions: 0, model: null }),
      entry('document_delete', { filePath: 'd.md' }),
      entry('memory_create', { namespace: 'user:u', key: 'k', version: 1 }, memory('create', k1.id)),
      entry('memory_update', { namespace: 'user:u', key: 'k', version: 2, previousVersion: 1 }, memory('update', k2.id)),
      entry('memory_rollback', { namespace: 'user:u', key: 'k', from: 2, to: 1 }, memory('update', k2.id)),
      entry('memory_update', { namespace: 'user:u', key: 'k', version: 3, previousVersion: 1 }, memory('update', k3.id)),
      // Two live versions (1 and 3): the audit names the newest.
      entry('memory_delete', { namespace: 'user:u', key: 'k', deletedVersions: 2 }, memory('delete', k3.id)),
      entry('session_delete', { sessionId: 's1' }),
    ]);
  });
  it('audits an expiry once per key, naming the key’s newest version', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: 'user:u', key: 'a', value: 1, type: 'episodic' });
    const a2 = await store.memory.update('user:u', 'a', 2);
    const b1 = await store.memory.add({ namespace: 'user:u', key: 'b', value: 1, type: 'episodic' });
    const olderThan = new Date(Date.now() + 60_000).toISOString();
    expect(await store.memory.expireEpisodic(olderThan)).toEqual({ expired: 2 });
    const expiries = (await store.audit.list({ memoryOperation: 'delete' })).items.map((e) => [e.actionType, e.actionData, e.memoryEntryId]);
    expect(expiries.sort((x, y) => String((x[1] as { key: string }).key).localeCompare((y[1] as { key: string }).key))).toEqual([
      ['memory_expire', { namespace: 'user:u', key: 'a', olderThan }, a2.id],
      ['memory_expire', { namespace: 'user:u', key: 'b', olderThan }, b1.id],
    ]);
  });
});
