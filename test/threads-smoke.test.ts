import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTestStore } from './helpers/store.js';
import { tempDir } from './helpers/temp.js';

// The semantics are tested in-process (where coverage sees them); this runs every public
// method once through the real writer and reader threads, so what crosses a thread —
// arguments, rows, Float32Arrays, undefined, errors — is proven to cross intact.
describe('every method through the threads', () => {
  it('round-trips each service', async () => {
    const store = await openTestStore({ readers: 2 });
    const ctx = { taskId: undefined, agentId: undefined };
    const session = await store.sessions.create({ appName: 'smoke', userId: 'alice', projectId: 'p', state: { a: 1 } });
    expect(await store.sessions.get(session.id, { lastEvents: 1 })).toEqual(session);
    expect(await store.sessions.appendEvent(session.id, { hi: 1 }, { stateDelta: { 'user:alice:x': 1 } })).toMatchObject({ seq: 1, eventCount: 1 });
    expect(await store.sessions.appendEvents(session.id, [{ event: 'two', eventId: 'e2' }, { event: null }])).toMatchObject({ seqs: [2, 3], eventCount: 3 });
    expect(await store.sessions.appendEvent(session.id, 'two again', { eventId: 'e2' })).toMatchObject({ seq: 2, eventCount: 3 });
    expect((await store.sessions.events(session.id, { order: 'desc', limit: 2 })).items.map((e) => e.event)).toEqual([null, 'two']);
    expect(await store.sessions.trimEvents(session.id, { keepLast: 2 })).toEqual({ deleted: 1, firstSeq: 2, eventCount: 3 });
    expect(await store.sessions.getState(session.id, 'user:alice:x')).toBe(1);
    expect(await store.sessions.setState(session.id, { b: 2 })).toEqual({ a: 1, 'user:alice:x': 1, b: 2 });
    expect((await store.sessions.setStatus(session.id, 'active')).status).toBe('active');
    expect((await store.sessions.listByUser('alice')).items).toHaveLength(1);
    expect((await store.sessions.listByProject('p')).items).toHaveLength(1);

    const entry = await store.memory.add({ namespace: 'user:alice', key: 'k', value: [1, { x: null }], type: 'semantic', ctx });
    expect(entry.value).toEqual([1, { x: null }]);
    expect((await store.memory.update('user:alice', 'k', 'v2', { expectedVersion: 1 })).version).toBe(2);
    expect((await store.memory.get('user:alice', 'k'))?.value).toBe('v2');
    expect((await store.memory.history('user:alice', 'k')).items).toHaveLength(2);
    expect((await store.memory.search({ namespacePrefix: 'user' })).items).toHaveLength(1);
    expect((await store.memory.context({ sessionId: session.id, userId: 'alice', appName: 'smoke' })).user).toHaveLength(1);
    expect((await store.memory.rollback('user:alice', 'k')).version).toBe(1);
    // Rollback already marked version 2: delete marks the one live version left.
    expect(await store.memory.delete('user:alice', 'k')).toEqual({ deletedVersions: 1 });
    expect(await store.memory.expireEpisodic(new Date())).toEqual({ expired: 0 });

    await store.documents.upsert({ filePath: 'a.md', title: 'A', documentType: 'plan', contentHash: 'h' });
    const embedding = new Float32Array([1.5, -0, Number.NaN]);
    const synced = await store.documents.markSynced('a.md', { embedding, embeddingModel: 'e' });
    expect(Buffer.from(synced.embedding!.buffer)).toEqual(Buffer.from(embedding.buffer));
    expect((await store.documents.get('a.md'))?.embedding).toBeInstanceOf(Float32Array);
    expect((await store.documents.listByType('plan')).items).toHaveLength(1);
    expect(await store.documents.pendingSync()).toEqual({ items: [], nextCursor: undefined });
    expect((await store.documents.markFailed('a.md')).syncStatus).toBe('failed');
    await store.documents.delete('a.md');

    const task = await store.tasks.create({ prompt: 'p', inputData: { n: 1 }, sessionId: session.id });
    const child = await store.tasks.create({ prompt: 'c', inputData: {}, parentTaskId: task.id });
    expect((await store.tasks.getWithSession(task.id))?.session?.id).toBe(session.id);
    expect((await store.tasks.listBySession(session.id)).items).toHaveLength(1);
    expect((await store.tasks.listChildren(task.id)).items.map((t) => t.id)).toEqual([child.id]);
    expect((await store.tasks.claimNext())?.id).toBe(task.id);
    expect((await store.tasks.complete(task.id, { ok: true })).status).toBe('completed');
    expect((await store.tasks.claimNext())?.id).toBe(child.id);
    expect((await store.tasks.fail(child.id, 'x', { retry: false })).status).toBe('failed');
    expect((await store.tasks.cancel((await store.tasks.create({ prompt: 'q', inputData: 1 })).id)).status).toBe('cancelled');
    expect((await store.tasks.get(task.id))?.resultData).toEqual({ ok: true });

    const agent = await store.agents.spawn({ name: 'a', specialization: 's', taskId: task.id, model: 'm', sessionId: session.id });
    expect((await store.agents.setState(agent.id, 'working')).state).toBe('working');
    expect((await store.agents.listBySession(session.id)).items).toHaveLength(1);
    expect((await store.agents.listByTask(task.id)).items).toHaveLength(1);
    expect((await store.agents.terminate(agent.id)).state).toBe('terminated');
    expect((await store.agents.get(agent.id))?.state).toBe('terminated');

    await store.checkpoints.save({ taskId: task.id, iteration: 1, state: { s: 1 } });
    expect((await store.checkpoints.get(task.id, 1))?.state).toEqual({ s: 1 });
    expect((await store.checkpoints.latest(task.id))?.iteration).toBe(1);
    expect((await store.checkpoints.list(task.id)).items).toHaveLength(1);
    await store.state.set(task.id, 'k', 'v');
    expect(await store.state.get(task.id, 'k')).toBe('v');
    await store.metrics.record('m', 1, { labels: { a: 'b' } });
    expect((await store.metrics.query({ name: 'm' })).items).toHaveLength(1);
    expect((await store.audit.list({ taskId: task.id })).items.length).toBeGreaterThan(3);

    await store.sessions.delete(session.id);
    const backup = await store.backup(join(tempDir(), 'copy.db'));
    expect(backup.bytes).toBeGreaterThan(0);
    const report = await store.check();
    expect(report.ok).toBe(true);
    expect(report.plans?.length).toBeGreaterThan(60);

    await expect(store.sessions.get(42 as never)).rejects.toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.complete('nope')).rejects.toMatchObject({ name: 'StoreError', code: 'NOT_FOUND' });
    const stats = store.stats();
    expect(Object.keys(stats.latency)).toContain('sessions.get');
    expect(stats.latency['sessions.get']!.count).toBeGreaterThan(0);
  });
});
