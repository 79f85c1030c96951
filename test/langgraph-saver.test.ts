import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emptyCheckpoint, uuid6, type Checkpoint, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { validate } from '@langchain/langgraph-checkpoint-validation';
import { AbathurSaver } from '../src/langgraph/index.js';
import { compareCodePoints, LIST_SCAN_LIMIT } from '../src/catalogue/langgraph.js';
import { StoreError } from '../src/api/errors.js';
import { describeEachEngine } from './helpers/engines.js';
import { openInProcessStore } from './helpers/in-process-store.js';

Object.assign(globalThis, { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach });

// The published suite once more, on stores that run their operations on this thread, so
// coverage sees the catalogue code the suite drives (langgraph-validation.test.ts runs
// it on real threads).
describe('the validation suite, in-process', () => {
  validate({
    checkpointerName: 'abathur-store/langgraph AbathurSaver (in-process)',
    createCheckpointer: async () => new AbathurSaver(await openInProcessStore()),
    destroyCheckpointer: (saver: AbathurSaver) => saver.store.close(),
  });
});

const root = (thread: string, id?: string) => ({
  configurable: { thread_id: thread, checkpoint_ns: '', ...(id === undefined ? {} : { checkpoint_id: id }) },
});

function checkpoint(values: Record<string, unknown>, versions: Record<string, number | string>): Checkpoint {
  return { ...emptyCheckpoint(), id: uuid6(-3), channel_values: values, channel_versions: versions };
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describeEachEngine('AbathurSaver', (engine) => {
  it('stores a value per (channel, version): an unchanged channel is read from the checkpoint that wrote it', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    const first = checkpoint({ big: 'x'.repeat(10_000), n: 1 }, { big: 1.25, n: 1.25 });
    const c1 = await saver.put(root('t'), first, { source: 'input', step: -1, parents: {} }, { big: 1.25, n: 1.25 });
    const second = checkpoint({ big: 'x'.repeat(10_000), n: 2 }, { big: 1.25, n: 2.25 });
    await saver.put(c1, second, { source: 'loop', step: 0, parents: {} }, { n: 2.25 });
    expect((await saver.getTuple(root('t')))?.checkpoint.channel_values).toEqual({ big: 'x'.repeat(10_000), n: 2 });
    const audit = await store.audit.list({ limit: 10 });
    expect(audit.items.filter((e) => e.actionType === 'langgraph_checkpoint_put').map((e) => (e.actionData as { channels: number }).channels)).toEqual([1, 2]);
  });

  it('keeps number and string versions apart, and a fractional version exact', async () => {
    const saver = new AbathurSaver(await engine.open());
    const version = 9.101235806591104;
    const c1 = await saver.put(root('t'), checkpoint({ a: 'number', b: 'string' }, { a: version, b: '3' }), { source: 'input', step: -1, parents: {} }, { a: version, b: '3' });
    await saver.put(c1, checkpoint({}, { a: '9.101235806591104', b: 3 }), { source: 'loop', step: 0, parents: {} }, {});
    expect((await saver.getTuple(c1))?.checkpoint.channel_values).toEqual({ a: 'number', b: 'string' });
    // The child names the same versions with the other type: no value matches.
    expect((await saver.getTuple(root('t')))?.checkpoint.channel_values).toEqual({});
  });

  it('returns pending writes in (task path, task id, index) order, comparing by code point', async () => {
    const saver = new AbathurSaver(await engine.open());
    const config = await saver.put(root('t'), checkpoint({}, {}), { source: 'loop', step: 0, parents: {} }, {});
    // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 code unit.
    await saver.putWrites(config, [['c', 'astral']], 'task-a', '~__pregel_pull, \u{1F600}');
    await saver.putWrites(config, [['c', 'bmp'], ['c', 'bmp2']], 'task-b', '~__pregel_pull, \uff5e');
    await saver.putWrites(config, [['c', 'input']], '00000000-0000-0000-0000-000000000000', '');
    await saver.putWrites(config, [['c', 'z-task']], 'task-z', '~__pregel_pull, a');
    await saver.putWrites(config, [['c', 'a-task']], 'task-a2', '~__pregel_pull, a');
    const writes = (await saver.getTuple(config))?.pendingWrites?.map((w) => w[2]);
    expect(writes).toEqual(['input', 'a-task', 'z-task', 'bmp', 'bmp2', 'astral']);
  });

  it('keeps a stored write on a re-send unless the call holds special channels only, which replace', async () => {
    const saver = new AbathurSaver(await engine.open());
    const config = await saver.put(root('t'), checkpoint({}, {}), { source: 'loop', step: 0, parents: {} }, {});
    await saver.putWrites(config, [['a', 1]], 'task');
    await saver.putWrites(config, [['a', 2]], 'task');
    await saver.putWrites(config, [['__interrupt__', 'first']], 'task');
    await saver.putWrites(config, [['__interrupt__', 'second']], 'task');
    // Mixed: the stored interrupt stays.
    await saver.putWrites(config, [['__interrupt__', 'third'], ['b', 3]], 'task');
    expect((await saver.getTuple(config))?.pendingWrites).toEqual([
      ['task', '__interrupt__', 'second'],
      ['task', 'a', 1],
      ['task', 'b', 3],
    ]);
  });

  it('takes a channel named like an Object.prototype member (constructor, toString) for an ordinary one', async () => {
    const saver = new AbathurSaver(await engine.open());
    const config = await saver.put(root('t'), checkpoint({}, {}), { source: 'loop', step: 0, parents: {} }, {});
    await saver.putWrites(config, [['constructor', 1], ['toString', 2]], 'task');
    // Ordinary channels: kept on a re-send, at the write's position.
    await saver.putWrites(config, [['constructor', 3]], 'task');
    expect((await saver.getTuple(config))?.pendingWrites).toEqual([
      ['task', 'constructor', 1],
      ['task', 'toString', 2],
    ]);
  });

  it('accepts writes before their checkpoint is stored, as LangGraph sends them with durability "async"', async () => {
    const saver = new AbathurSaver(await engine.open());
    const cp = checkpoint({ x: 1 }, { x: 1.5 });
    await saver.putWrites(root('t', cp.id), [['x', 2]], 'task');
    await saver.put(root('t'), cp, { source: 'loop', step: 0, parents: {} }, { x: 1.5 });
    expect((await saver.getTuple(root('t')))?.pendingWrites).toEqual([['task', 'x', 2]]);
  });

  it('round-trips bytes, the classes the serializer knows, and undefined values', async () => {
    const saver = new AbathurSaver(await engine.open());
    const bytes = new Uint8Array([0, 255, 1, 128]);
    const values = { bytes, set: new Set([1, 2]), map: new Map([['k', 1]]), error: new Error('boom'), nothing: undefined };
    const versions = Object.fromEntries(Object.keys(values).map((k) => [k, 1.5]));
    const config = await saver.put(root('t'), checkpoint(values, versions), { source: 'input', step: -1, parents: {} }, versions);
    bytes[0] = 99; // a change after put never reaches what was stored
    await saver.putWrites(config, [['bytes', new Uint8Array([7])]], 'task');
    const tuple = await saver.getTuple(config);
    expect(tuple?.checkpoint.channel_values).toEqual({ ...values, bytes: new Uint8Array([0, 255, 1, 128]) });
    expect(tuple?.pendingWrites).toEqual([['task', 'bytes', new Uint8Array([7])]]);
  });

  it('lists page by page past the page size and past the rows one call examines, newest first', async () => {
    const saver = new AbathurSaver(await engine.open());
    let config: RunnableConfig = root('t');
    const ids: string[] = [];
    const total = LIST_SCAN_LIMIT + 150;
    for (let step = 0; step < total; step++) {
      const cp = checkpoint({}, {});
      ids.push(cp.id);
      config = await saver.put(config, cp, { source: step < 3 ? 'input' : 'loop', step, parents: {} }, {});
    }
    ids.reverse();
    expect((await all(saver.list(root('t')))).map((t) => t.checkpoint.id)).toEqual(ids);
    expect((await all(saver.list(root('t'), { limit: 230 }))).map((t) => t.checkpoint.id)).toEqual(ids.slice(0, 230));
    // The three matches are the oldest rows: past the first call's examined rows.
    const inputs = await all(saver.list(root('t'), { filter: { source: 'input' } }));
    expect(inputs.map((t) => t.metadata?.step)).toEqual([2, 1, 0]);
    expect((await all(saver.list({ configurable: {} }, { before: root('t', ids[5]), limit: 2 }))).map((t) => t.checkpoint.id)).toEqual(ids.slice(6, 8));
    expect(await all(saver.list(root('t'), { limit: 0 }))).toEqual([]);
  });

  it('lists one thread across namespaces, and every thread, with the same id in two places', async () => {
    const saver = new AbathurSaver(await engine.open());
    const shared = checkpoint({}, {});
    const meta = { source: 'loop' as const, step: 0, parents: {} };
    await saver.put({ configurable: { thread_id: 'a', checkpoint_ns: '' } }, shared, meta, {});
    await saver.put({ configurable: { thread_id: 'a', checkpoint_ns: 'child:1' } }, shared, meta, {});
    await saver.put({ configurable: { thread_id: 'b', checkpoint_ns: '' } }, shared, meta, {});
    const newer = checkpoint({}, {});
    await saver.put({ configurable: { thread_id: 'a', checkpoint_ns: 'child:1' } }, newer, meta, {});
    const where = (ts: { config: { configurable?: Record<string, unknown> } }[]) =>
      ts.map((t) => `${String(t.config.configurable?.thread_id)}/${String(t.config.configurable?.checkpoint_ns)}`);
    expect(where(await all(saver.list({ configurable: { thread_id: 'a' } })))).toEqual(['a/child:1', 'a/child:1', 'a/']);
    expect(where(await all(saver.list({ configurable: {} })))).toEqual(['a/child:1', 'b/', 'a/child:1', 'a/']);
    expect(where(await all(saver.list({ configurable: { checkpoint_ns: '' } })))).toEqual(['b/', 'a/']);
    expect(where(await all(saver.list({ configurable: {} }, { limit: 2 })))).toEqual(['a/child:1', 'b/']);
    expect(where(await all(saver.list({ configurable: { checkpoint_id: shared.id } })))).toEqual(['b/', 'a/child:1', 'a/']);
  });

  it('filters list on metadata values compared as JSON, ignoring undefined filter values', async () => {
    const saver = new AbathurSaver(await engine.open());
    let config: RunnableConfig = root('t');
    for (const [i, user] of [{ name: 'ann', tags: ['x'] }, { name: 'bob' }, { name: 'ann', tags: ['x'] }].entries()) {
      config = await saver.put(config, checkpoint({}, {}), { source: 'loop', step: i, parents: {}, user } as CheckpointMetadata, {});
    }
    const steps = async (filter: Record<string, unknown>) => (await all(saver.list(root('t'), { filter }))).map((t) => t.metadata?.step);
    expect(await steps({ user: { name: 'ann', tags: ['x'] } })).toEqual([2, 0]);
    expect(await steps({ user: { name: 'bob' }, step: 1 })).toEqual([1]);
    expect(await steps({ user: { name: 'bob' }, step: 0 })).toEqual([]);
    expect(await steps({ step: undefined })).toEqual([2, 1, 0]);
    expect(await steps({ missing: null })).toEqual([]);
  });

  it('deletes a thread in every namespace and leaves other threads alone', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    for (const [thread, ns] of [['a', ''], ['a', 'sub:1'], ['b', '']] as const) {
      const config = await saver.put({ configurable: { thread_id: thread, checkpoint_ns: ns } }, checkpoint({ v: 1 }, { v: 1.5 }), { source: 'loop', step: 0, parents: {} }, { v: 1.5 });
      await saver.putWrites(config, [['v', 2]], 'task');
    }
    await saver.deleteThread('a');
    expect(await all(saver.list({ configurable: { thread_id: 'a' } }))).toEqual([]);
    const b = await saver.getTuple(root('b'));
    expect(b?.checkpoint.channel_values).toEqual({ v: 1 });
    expect(b?.pendingWrites).toEqual([['task', 'v', 2]]);
    const audit = await store.audit.list({ limit: 1 });
    expect(audit.items[0]).toMatchObject({ actionType: 'langgraph_delete_thread', actionData: { threadId: 'a', checkpoints: 2, blobs: 2, writes: 2 } });
  });

  it('never reuses a version on a fork: the next version is the next integer plus a fraction below one half', async () => {
    const saver = new AbathurSaver(await engine.open());
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const next = saver.getNextVersion(3.2);
      expect(next).toBeGreaterThanOrEqual(4);
      expect(next).toBeLessThan(4.5);
      seen.add(next);
    }
    expect(seen.size).toBe(100);
    expect(Math.floor(saver.getNextVersion(undefined))).toBe(1);
  });

  it('refuses bad input with INVALID_ARGUMENT and writes nothing', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    const meta = { source: 'loop' as const, step: 0, parents: {} };
    const refusals: Promise<unknown>[] = [
      saver.put({ configurable: { thread_id: 42 } }, checkpoint({}, {}), meta, {}),
      saver.put({ configurable: { thread_id: '' } }, checkpoint({}, {}), meta, {}),
      saver.put(root('t'), { ...checkpoint({}, {}), id: undefined as unknown as string }, meta, {}),
      saver.put(root('t'), { ...checkpoint({}, {}), v: 1.5 }, meta, {}),
      saver.put(root('t'), checkpoint({ a: 1 }, { a: 1 }), meta, { a: Number.NaN }),
      saver.put(root('t'), checkpoint({}, {}), meta, null as unknown as Record<string, number>),
      saver.put(root('t'), null as unknown as Checkpoint, meta, {}),
      saver.putWrites(root('t', 'x'), 'nope' as unknown as [], 'task'),
      saver.putWrites(root('t', 'x'), [['c', 1], 'bad' as unknown as [string, unknown]], 'task'),
      saver.putWrites(root('t', 'x'), [[7 as unknown as string, 1]], 'task'),
      saver.putWrites(root('t', 'x'), [['c', 1]], undefined as unknown as string),
      saver.putWrites({}, [['c', 1]], 'task'),
      saver.deleteThread(undefined as unknown as string),
      saver.getTuple({ configurable: { thread_id: ['t'] } }),
      all(saver.list(root('t'), { filter: { big: 10n } })),
      all(saver.list(root('t'), { limit: 'ten' as unknown as number })),
      saver.put(root('x'.repeat(5000)), checkpoint({}, {}), meta, {}),
    ];
    const outcomes = await Promise.allSettled(refusals);
    outcomes.forEach((outcome, i) => {
      expect(outcome.status, `refusal ${i}`).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason, `refusal ${i}`).toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT' });
    });
    expect(await all(saver.list({ configurable: {} }))).toEqual([]);
    expect((await store.audit.list({ limit: 5 })).items).toEqual([]);
  });

  it('resolves getTuple to undefined without a thread id, or for a checkpoint that is not there', async () => {
    const saver = new AbathurSaver(await engine.open());
    expect(await saver.getTuple({ configurable: {} })).toBeUndefined();
    expect(await saver.getTuple({})).toBeUndefined();
    expect(await saver.getTuple(root('t', 'missing'))).toBeUndefined();
    expect(await saver.getTuple(root('t'))).toBeUndefined();
  });

  it('needs a store, and closes only the store it opened itself', async () => {
    expect(() => new AbathurSaver({} as never)).toThrow(StoreError);
    expect(() => new AbathurSaver(undefined as never)).toThrow(/needs a Store from openStore\(\)/);
    const store = await engine.open();
    await new AbathurSaver(store).close();
    expect((await store.audit.list()).items).toEqual([]); // still open
  });
});

describe('compareCodePoints', () => {
  it('orders as Unicode code points do, where UTF-16 code units disagree', () => {
    const sorted = ['b', '\u{1F600}', '\uff5e', 'a', '', 'ab', '\ud800', '\ue000'].sort(compareCodePoints);
    expect(sorted).toEqual(['', 'a', 'ab', 'b', '\ud800', '\ue000', '\uff5e', '\u{1F600}']);
    expect(compareCodePoints('\u{1F600}', '\u{1F601}')).toBe(-1);
    expect(compareCodePoints('x', 'x')).toBe(0);
  });
});
