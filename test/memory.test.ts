import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

const NS = 'user:alice:preferences';

describeEachEngine('memory versioning', (engine) => {
  it('adds version 1 and rejects adding a live key again with CONFLICT', async () => {
    const store = await engine.open();
    const entry = await store.memory.add({ namespace: NS, key: 'theme', value: { mode: 'dark' }, type: 'semantic', createdBy: 'agent-1', metadata: { source: 'chat' } });
    expect(entry).toMatchObject({ namespace: NS, key: 'theme', value: { mode: 'dark' }, type: 'semantic', version: 1, isDeleted: false, createdBy: 'agent-1', updatedBy: 'agent-1', metadata: { source: 'chat' } });
    await expect(store.memory.add({ namespace: NS, key: 'theme', value: 'x', type: 'semantic' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.memory.get(NS, 'theme')).toEqual(entry);
    expect(await store.memory.get(NS, 'missing')).toBeUndefined();
  });

  it('update inserts max+1, keeps the type, and get returns the newest live version or a named one', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: NS, key: 'k', value: 1, type: 'procedural', createdBy: 'a' });
    const v2 = await store.memory.update(NS, 'k', 2, { updatedBy: 'b' });
    expect(v2).toMatchObject({ version: 2, value: 2, type: 'procedural', createdBy: 'a', updatedBy: 'b' });
    const v3 = await store.memory.update(NS, 'k', 3, { expectedVersion: 2, metadata: { note: 'x' } });
    expect(v3).toMatchObject({ version: 3, metadata: { note: 'x' } });
    expect((await store.memory.get(NS, 'k'))?.version).toBe(3);
    expect((await store.memory.get(NS, 'k', { version: 1 }))?.value).toBe(1);
    expect(await store.memory.get(NS, 'k', { version: 9 })).toBeUndefined();
    await expect(store.memory.update(NS, 'absent', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rejects an update whose expectedVersion is not current with CONFLICT, and writes nothing', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: NS, key: 'k', value: 1, type: 'semantic' });
    await store.memory.update(NS, 'k', 2);
    await expect(store.memory.update(NS, 'k', 99, { expectedVersion: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('is at version 2, not the expected 1'),
    });
    expect((await store.memory.history(NS, 'k')).items.map((e) => e.version)).toEqual([2, 1]);
  });

  it('delete marks every version, so get never resurrects an older one', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: NS, key: 'k', value: 1, type: 'semantic' });
    await store.memory.update(NS, 'k', 2);
    await store.memory.update(NS, 'k', 3);
    expect(await store.memory.delete(NS, 'k')).toEqual({ deletedVersions: 3 });
    expect(await store.memory.get(NS, 'k')).toBeUndefined();
    expect((await store.memory.history(NS, 'k')).items.every((e) => e.isDeleted)).toBe(true);
    await expect(store.memory.delete(NS, 'k')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.memory.update(NS, 'k', 4)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Adding it again continues after the last version.
    expect((await store.memory.add({ namespace: NS, key: 'k', value: 'again', type: 'episodic' })).version).toBe(4);
  });

  it('rollback marks the current version deleted so the previous one is current', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: NS, key: 'k', value: 'one', type: 'semantic' });
    await store.memory.update(NS, 'k', 'two');
    const current = await store.memory.rollback(NS, 'k');
    expect(current).toMatchObject({ version: 1, value: 'one' });
    expect((await store.memory.get(NS, 'k'))?.value).toBe('one');
    await expect(store.memory.rollback(NS, 'k')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    // The rolled-back version keeps its number: the next update is version 3.
    expect((await store.memory.update(NS, 'k', 'three', { expectedVersion: 1 })).version).toBe(3);
    await expect(store.memory.rollback(NS, 'nothing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('history pages through every version, newest first', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: NS, key: 'k', value: 0, type: 'semantic' });
    for (let i = 1; i < 7; i++) await store.memory.update(NS, 'k', i);
    const first = await store.memory.history(NS, 'k', { limit: 4 });
    expect(first.items.map((e) => e.version)).toEqual([7, 6, 5, 4]);
    const second = await store.memory.history(NS, 'k', { limit: 4, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.version)).toEqual([3, 2, 1]);
    expect(second.nextCursor).toBeUndefined();
  });
});

describeEachEngine('memory search and context', (engine) => {
  async function seeded() {
    const store = await engine.open();
    const add = (namespace: string, key: string, value: unknown, type: 'semantic' | 'episodic' | 'procedural' = 'semantic') =>
      store.memory.add({ namespace, key, value: value as never, type });
    await add('user:alice', 'name', 'Alice');
    await add('user:alice:preferences', 'theme', 'dark');
    await add('user:alice:preferences', 'lang', 'fr', 'procedural');
    await add('user:alice2', 'name', 'Other Alice');
    await add('user:alice-x', 'name', 'Hyphen Alice');
    await add('user:alic', 'name', 'Alic');
    await add('user:bob', 'name', 'Bob');
    await add('session:s1', 'goal', 'ship it', 'episodic');
    await add('app:planner', 'model', 'large', 'procedural');
    await add('project:p1', 'repo', 'abathur');
    await store.memory.update('user:alice:preferences', 'theme', 'light');
    await add('user:alice', 'gone', 1);
    await store.memory.delete('user:alice', 'gone');
    return store;
  }

  it('prefix search matches the namespace and everything under it, never a sibling like user:alice2', async () => {
    const store = await seeded();
    const page = await store.memory.search({ namespacePrefix: 'user:alice' });
    expect(page.items.map((e) => `${e.namespace}/${e.key}=${JSON.stringify(e.value)}`)).toEqual([
      'user:alice/name="Alice"',
      'user:alice:preferences/lang="fr"',
      'user:alice:preferences/theme="light"',
    ]);
    expect(page.items.find((e) => e.key === 'theme')?.version).toBe(2);
  });

  it('filters by type and pages by (namespace, key)', async () => {
    const store = await seeded();
    const procedural = await store.memory.search({ namespacePrefix: 'user:alice', type: 'procedural' });
    expect(procedural.items.map((e) => e.key)).toEqual(['lang']);
    const first = await store.memory.search({ namespacePrefix: 'user', limit: 3 });
    const second = await store.memory.search({ namespacePrefix: 'user', limit: 3, cursor: first.nextCursor! });
    const third = await store.memory.search({ namespacePrefix: 'user', limit: 3, cursor: second.nextCursor! });
    const all = [...first.items, ...second.items, ...third.items].map((e) => `${e.namespace}/${e.key}`);
    // (namespace, key) order: a namespace sorts before every longer one it prefixes.
    expect(all).toEqual([
      'user:alic/name',
      'user:alice/name',
      'user:alice-x/name',
      'user:alice2/name',
      'user:alice:preferences/lang',
      'user:alice:preferences/theme',
      'user:bob/name',
    ]);
    expect(third.nextCursor).toBeUndefined();
  });

  it('context returns the newest live version of every entry in the session, user, app and project scopes', async () => {
    const store = await seeded();
    const context = await store.memory.context({ sessionId: 's1', userId: 'alice', appName: 'planner', projectId: 'p1' });
    expect(context.session.map((e) => e.key)).toEqual(['goal']);
    expect(context.user.map((e) => `${e.namespace}/${e.key}=${JSON.stringify(e.value)}`)).toEqual([
      'user:alice/name="Alice"',
      'user:alice:preferences/lang="fr"',
      'user:alice:preferences/theme="light"',
    ]);
    expect(context.app.map((e) => e.key)).toEqual(['model']);
    expect(context.project.map((e) => e.key)).toEqual(['repo']);
    expect(context.truncated).toBe(false);
    const noProject = await store.memory.context({ sessionId: 's1', userId: 'alice', appName: 'planner', limit: 1 });
    expect(noProject.project).toEqual([]);
    expect(noProject.user).toHaveLength(1);
    expect(noProject.truncated).toBe(true);
    // Exactly `limit` entries in the largest scope (user: 3) is everything: not truncated.
    const exactly = await store.memory.context({ sessionId: 's1', userId: 'alice', appName: 'planner', limit: 3 });
    expect(exactly.user).toHaveLength(3);
    expect(exactly.truncated).toBe(false);
    await expect(store.memory.context({ sessionId: 's1', userId: 'alice:x', appName: 'planner' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('expireEpisodic soft-deletes episodic keys whose current version is older than the cutoff', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: 'session:s1', key: 'old', value: 1, type: 'episodic' });
    await store.memory.update('session:s1', 'old', 2);
    await store.memory.add({ namespace: 'session:s1', key: 'fact', value: 1, type: 'semantic' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const cutoff = new Date();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.memory.add({ namespace: 'session:s1', key: 'fresh', value: 1, type: 'episodic' });
    expect(await store.memory.expireEpisodic(cutoff)).toEqual({ expired: 1 });
    expect(await store.memory.get('session:s1', 'old')).toBeUndefined();
    expect((await store.memory.history('session:s1', 'old')).items.every((e) => e.isDeleted)).toBe(true);
    expect(await store.memory.get('session:s1', 'fresh')).toBeDefined();
    expect(await store.memory.get('session:s1', 'fact')).toBeDefined();
    expect(await store.memory.expireEpisodic(cutoff.toISOString())).toEqual({ expired: 0 });
    const audit = await store.audit.list({ memoryOperation: 'delete' });
    expect(audit.items.map((a) => a.actionType)).toEqual(['memory_expire']);
  });

  it('rejects malformed namespaces and values before queueing', async () => {
    const store = await engine.open();
    for (const namespace of ['', ':user', 'user:', 'user::alice', 'user\u0000x']) {
      await expect(store.memory.add({ namespace, key: 'k', value: 1, type: 'semantic' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(store.memory.add({ namespace: NS, key: 'k', value: undefined as never, type: 'semantic' })).rejects.toMatchObject({ message: 'input is missing value (required)' });
    await expect(store.memory.add({ namespace: NS, key: 'k', value: new Date() as never, type: 'semantic' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.memory.add({ namespace: NS, key: 'k', value: 1, type: 'working' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.memory.expireEpisodic('yesterday')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.memory.search({ namespacePrefix: 'user' })).toEqual({ items: [], nextCursor: undefined });
  });
});
