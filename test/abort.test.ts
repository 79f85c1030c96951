import { getEventListeners } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { Queue } from '../src/sqlite/queue.js';
import { openTestStore } from './helpers/store.js';

const entry = (key: string, signal?: AbortSignal) => ({
  namespace: 'user:alice:notes',
  key,
  value: key,
  type: 'semantic' as const,
  ...(signal === undefined ? {} : { signal }),
});

describe('a queue with withdrawal', () => {
  it('withdraws an aborted item from the middle, keeps the order of the rest, and tells who asked', () => {
    const queue = new Queue<string>();
    const withdrawn: string[] = [];
    const controller = new AbortController();
    queue.push('a');
    queue.push('b', controller.signal, (item) => withdrawn.push(item));
    queue.push('c');
    controller.abort();
    expect(withdrawn).toEqual(['b']);
    expect(queue.length).toBe(2);
    expect(queue.drain()).toEqual(['a', 'c']);
  });

  it('forgets the signal of an item once taken: a later abort changes nothing, no listener is left', () => {
    const queue = new Queue<string>();
    const controller = new AbortController();
    const withdrawn: string[] = [];
    queue.push('a', controller.signal, (item) => withdrawn.push(item));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(queue.take(1)).toEqual(['a']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(withdrawn).toEqual([]);
  });
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
    await expect(store.tasks.get('t', { sginal: 1 } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
