import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import type { Store } from '../src/store.js';
import { openInProcessStore } from './helpers/in-process-store.js';
import { openTestStore } from './helpers/store.js';

const entry = (key: string, signal?: AbortSignal) => ({
  namespace: 'user:alice:notes',
  key,
  value: key,
  type: 'semantic' as const,
  ...(signal === undefined ? {} : { signal }),
});

describe('AbortSignal on calls', () => {
  it('an already-aborted signal rejects ABORTED at once, with its reason as cause; nothing runs', async () => {
    const store = await openTestStore({ readers: 1 });
    const reason = new Error('the user went away');
    const signal = AbortSignal.abort(reason);
    const error = await store.memory.add(entry('never', signal)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'ABORTED', message: expect.stringContaining('memory.add') });
    expect((error as StoreError).cause).toBe(reason);
    await expect(store.sessions.get('x', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await store.memory.get('user:alice:notes', 'never')).toBeUndefined();
  });

  it('a write still waiting in the queue is withdrawn: it rejects ABORTED and never runs; its batch commits', async () => {
    const store = await openTestStore({ readers: 1 });
    const controller = new AbortController();
    const before = store.memory.add(entry('before'));
    const aborted = store.memory.add(entry('aborted', controller.signal));
    const after = store.memory.add(entry('after'));
    expect(store.stats().queues.write).toBe(3);
    controller.abort();
    expect(store.stats().queues.write).toBe(2);
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(before).resolves.toMatchObject({ key: 'before', version: 1 });
    await expect(after).resolves.toMatchObject({ key: 'after', version: 1 });
    expect(await store.memory.get('user:alice:notes', 'aborted')).toBeUndefined();
    const { items } = await store.audit.list({ namespacePrefix: 'user:alice:notes' });
    expect(items.map((a) => (a.actionData as { key: string }).key).sort()).toEqual(['after', 'before']);
  });

  it('a write already sent to the writer completes and resolves, even if its signal aborts meanwhile', async () => {
    const store = await openTestStore({ readers: 1 });
    const controller = new AbortController();
    const sent = store.memory.add(entry('sent', controller.signal));
    await nextTurn();
    expect(store.stats().queues.write).toBe(0);
    controller.abort();
    await expect(sent).resolves.toMatchObject({ key: 'sent', version: 1 });
    expect(await store.memory.get('user:alice:notes', 'sent')).toMatchObject({ value: 'sent' });
  });

  it('a read still waiting is withdrawn; the reads beside it are served', async () => {
    const store = await openTestStore({ readers: 1 });
    const session = await store.sessions.create({ appName: 'planner', userId: 'alice' });
    const controller = new AbortController();
    const first = store.sessions.get(session.id);
    const aborted = store.sessions.get(session.id, { signal: controller.signal });
    const last = store.memory.search({ namespacePrefix: 'user:alice' });
    expect(store.stats().queues.read).toBe(3);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(first).resolves.toMatchObject({ id: session.id });
    await expect(last).resolves.toMatchObject({ items: [] });
  });

  it('one signal shared by many queued calls: no MaxListenersExceededWarning, and its abort withdraws them all', async () => {
    const store = await openInProcessStore();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      const writes = Array.from({ length: 30 }, (_, n) => store.memory.add(entry(`k${n}`, shared.signal)));
      const reads = Array.from({ length: 30 }, (_, n) => store.memory.get('user:alice:notes', `k${n}`, { signal: shared.signal }));
      expect(store.stats().queues).toEqual({ read: 30, write: 30 });
      shared.abort();
      for (const result of await Promise.allSettled([...writes, ...reads])) {
        expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ABORTED' } });
      }
      // A warning is emitted on the next tick.
      await nextTurn();
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('close still drains and resolves after a withdrawal', async () => {
    const store = await openTestStore({ readers: 1 });
    const controller = new AbortController();
    const pending = [store.memory.add(entry('w', controller.signal)), store.sessions.get('x', { signal: controller.signal })];
    const settled = Promise.allSettled(pending);
    controller.abort();
    await store.close();
    for (const result of await settled) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ABORTED' } });
    }
  });

  it('every public method takes the signal in its last argument: none runs when it is aborted', async () => {
    const store = await openInProcessStore();
    const signal = AbortSignal.abort();
    // One row per public method: the signal where that method takes it. A method added
    // without a row fails the coverage check below.
    const calls: Record<string, (s: Store) => Promise<unknown>> = {
      'sessions.create': (s) => s.sessions.create({ appName: 'a', userId: 'u', signal }),
      'sessions.get': (s) => s.sessions.get('x', { signal }),
      'sessions.appendEvent': (s) => s.sessions.appendEvent('x', {}, { signal }),
      'sessions.appendEvents': (s) => s.sessions.appendEvents('x', [{ event: {} }], { signal }),
      'sessions.events': (s) => s.sessions.events('x', { signal }),
      'sessions.trimEvents': (s) => s.sessions.trimEvents('x', { keepLast: 1, signal }),
      'sessions.setStatus': (s) => s.sessions.setStatus('x', 'active', { signal }),
      'sessions.getState': (s) => s.sessions.getState('x', undefined, { signal }),
      'sessions.setState': (s) => s.sessions.setState('x', {}, { signal }),
      'sessions.listByUser': (s) => s.sessions.listByUser('u', { signal }),
      'sessions.listByProject': (s) => s.sessions.listByProject('p', { signal }),
      'sessions.delete': (s) => s.sessions.delete('x', { signal }),
      'memory.add': (s) => s.memory.add(entry('k', signal)),
      'memory.get': (s) => s.memory.get('user:a', 'k', { signal }),
      'memory.update': (s) => s.memory.update('user:a', 'k', 1, { signal }),
      'memory.delete': (s) => s.memory.delete('user:a', 'k', { signal }),
      'memory.rollback': (s) => s.memory.rollback('user:a', 'k', { signal }),
      'memory.history': (s) => s.memory.history('user:a', 'k', { signal }),
      'memory.search': (s) => s.memory.search({ namespacePrefix: 'user:a', signal }),
      'memory.context': (s) => s.memory.context({ sessionId: 's', userId: 'u', appName: 'a', signal }),
      'memory.expireEpisodic': (s) => s.memory.expireEpisodic(Date.now(), { signal }),
      'documents.upsert': (s) => s.documents.upsert({ filePath: 'd.md', title: 't', contentHash: 'h', signal }),
      'documents.get': (s) => s.documents.get('d.md', { signal }),
      'documents.listByType': (s) => s.documents.listByType('plan', { signal }),
      'documents.pendingSync': (s) => s.documents.pendingSync({ signal }),
      'documents.markSynced': (s) => s.documents.markSynced('d.md', { signal }),
      'documents.markFailed': (s) => s.documents.markFailed('d.md', { signal }),
      'documents.delete': (s) => s.documents.delete('d.md', { signal }),
      'tasks.create': (s) => s.tasks.create({ prompt: 'p', inputData: {}, signal }),
      'tasks.get': (s) => s.tasks.get('t', { signal }),
      'tasks.getWithSession': (s) => s.tasks.getWithSession('t', { signal }),
      'tasks.listBySession': (s) => s.tasks.listBySession('x', { signal }),
      'tasks.listChildren': (s) => s.tasks.listChildren('t', { signal }),
      'tasks.claimNext': (s) => s.tasks.claimNext({ signal }),
      'tasks.complete': (s) => s.tasks.complete('t', null, { signal }),
      'tasks.fail': (s) => s.tasks.fail('t', 'e', { signal }),
      'tasks.cancel': (s) => s.tasks.cancel('t', { signal }),
      'agents.spawn': (s) => s.agents.spawn({ name: 'n', specialization: 's', taskId: 't', model: 'm', signal }),
      'agents.get': (s) => s.agents.get('a', { signal }),
      'agents.listBySession': (s) => s.agents.listBySession('x', { signal }),
      'agents.listByTask': (s) => s.agents.listByTask('t', { signal }),
      'agents.setState': (s) => s.agents.setState('a', 'working', { signal }),
      'agents.terminate': (s) => s.agents.terminate('a', { signal }),
      'checkpoints.save': (s) => s.checkpoints.save({ taskId: 't', iteration: 1, state: {}, signal }),
      'checkpoints.get': (s) => s.checkpoints.get('t', 1, { signal }),
      'checkpoints.latest': (s) => s.checkpoints.latest('t', { signal }),
      'checkpoints.list': (s) => s.checkpoints.list('t', { signal }),
      'state.get': (s) => s.state.get('t', 'k', { signal }),
      'state.set': (s) => s.state.set('t', 'k', 1, { signal }),
      'audit.list': (s) => s.audit.list({ signal }),
      'metrics.record': (s) => s.metrics.record('m', 1, { signal }),
      'metrics.query': (s) => s.metrics.query({ name: 'm', signal }),
      backup: (s) => s.backup(`${s.path}.bak`, { signal }),
    };
    const services = ['sessions', 'memory', 'documents', 'tasks', 'agents', 'checkpoints', 'state', 'audit', 'metrics'] as const;
    const publicMethods = services.flatMap((service) =>
      Object.getOwnPropertyNames(Object.getPrototypeOf(store[service]))
        .filter((m) => m !== 'constructor')
        .map((m) => `${service}.${m}`),
    );
    expect(publicMethods.filter((m) => calls[m] === undefined)).toEqual([]);
    const before = await store.audit.list();
    for (const [name, call] of Object.entries(calls)) {
      await expect(call(store), name).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('aborted before it ran') });
    }
    expect(await store.audit.list()).toEqual(before);
  });

  it('every kind of call takes the signal: options, input objects, and calls that had no options', async () => {
    const store = await openTestStore({ readers: 1 });
    const signal = AbortSignal.abort();
    const calls: Promise<unknown>[] = [
      store.tasks.get('t', { signal }),
      store.tasks.create({ prompt: 'p', inputData: {}, signal }),
      store.documents.get('d.md', { signal }),
      store.documents.pendingSync({ signal }),
      store.checkpoints.latest('t', { signal }),
      store.state.get('t', 'k', { signal }),
      store.sessions.getState('s', undefined, { signal }),
      store.memory.context({ sessionId: 's', userId: 'u', appName: 'a', signal }),
      store.audit.list({ signal }),
      store.metrics.record('m', 1, { signal }),
      store.agents.get('a', { signal }),
      store.backup(`${store.path}.bak`, { signal }),
    ];
    for (const result of await Promise.allSettled(calls)) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ABORTED' } });
    }
  });

  it('a signal that is not an AbortSignal is INVALID_ARGUMENT; an unknown option still is too', async () => {
    const store = await openTestStore({ readers: 1 });
    await expect(store.sessions.get('x', { signal: 'stop' as unknown as AbortSignal })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'signal must be an AbortSignal',
    });
    await expect(store.tasks.get('t', { sginal: 1 } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'options has an unknown option "sginal" (known: signal)',
    });
  });
});
