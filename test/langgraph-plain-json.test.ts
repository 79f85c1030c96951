import { emptyCheckpoint, JsonPlusSerializer, uuid6, type Checkpoint, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FastSerde, isPlainJson } from '../src/langgraph/plain-json.js';
import { AbathurSaver } from '../src/langgraph/index.js';
import { engineOf, openStore, type Store } from '../src/store.js';
import { lgWritesPut } from '../src/catalogue/langgraph.js';
import { ownsBuffer, transferOnSend, transfersOf } from '../src/api/transfer.js';
import { tempDbPath } from './helpers/temp.js';

// The saver writes and reads plain JSON without JsonPlusSerializer's replacer and reviver:
// the bytes must be the serializer's own, the values read back the ones it would give, and
// anything that is not plain JSON (or any other serializer) must still go through it.

const jsonPlus = new JsonPlusSerializer();
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

const PLAIN: unknown[] = [
  null,
  0,
  -1.5,
  Number.NaN,
  'text with "quotes", \\ and \u0000 and \u{1F600}',
  true,
  [],
  {},
  [1, 'two', [3, { four: null }]],
  { messages: [{ role: 'user', content: 'hi' }], turn: 3, nested: { deep: [[[]]] } },
  Object.assign(Object.create(null) as object, { bare: 1 }),
];

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

const NOT_PLAIN: unknown[] = [
  undefined,
  { a: undefined },
  [1, undefined],
  // eslint-disable-next-line no-sparse-arrays
  [1, , 3],
  new Set([1]),
  new Map([[1, 2]]),
  /re/g,
  new Error('boom'),
  new Uint8Array([1, 2]),
  { when: new Date(0) },
  { big: 1n },
  { fn: () => 1 },
  new (class Point {
    x = 1;
  })(),
  cyclic,
];

describe('plain JSON without the serializer', () => {
  it('writes the bytes JsonPlusSerializer writes, for every plain value', async () => {
    const fast = new FastSerde(jsonPlus);
    expect(fast.plain).toBe(true);
    for (const value of PLAIN) {
      expect(isPlainJson(value)).toBe(true);
      const [type, bytes] = await jsonPlus.dumpsTyped(value);
      const mine = fast.dumpSync(value)!;
      expect(mine.type).toBe(type);
      expect(text(mine.bytes)).toBe(text(bytes));
      expect(mine.json).toBe(text(bytes));
      expect(await fast.load(mine.type, mine.bytes)).toEqual(await jsonPlus.loadsTyped(type, bytes));
    }
  });

  it('leaves every value that is not plain JSON to the serializer', async () => {
    const fast = new FastSerde(jsonPlus);
    for (const value of NOT_PLAIN) {
      expect(isPlainJson(value)).toBe(false);
      expect(fast.dumpSync(value)).toBeUndefined();
    }
    // Values the serializer encodes come back as it revives them (a Set, undefined in an object).
    for (const value of [new Set([1, 2]), { a: undefined, b: [new Map([['k', 1]])] }, { lc: 1, type: 'not', id: 'x' }]) {
      const [type, bytes] = await jsonPlus.dumpsTyped(value);
      expect(await fast.load(type, bytes)).toEqual(await jsonPlus.loadsTyped(type, bytes));
    }
    // JSON that holds an lc record or a __proto__ key is revived by the serializer, not handed out as parsed.
    const loads = vi.spyOn(jsonPlus, 'loadsTyped');
    await fast.load('json', new TextEncoder().encode('{"x":{"lc":2,"type":"undefined"}}'));
    await fast.load('json', new TextEncoder().encode('{"__proto__":{"polluted":true}}'));
    expect(loads).toHaveBeenCalledTimes(2);
    loads.mockRestore();
  });

  it('never takes the short path for another serializer, a subclass, or a patched JsonPlusSerializer', () => {
    class Sub extends JsonPlusSerializer {}
    const patched = new JsonPlusSerializer();
    patched.dumpsTyped = (value) => jsonPlus.dumpsTyped(value);
    const other: SerializerProtocol = { dumpsTyped: (value) => jsonPlus.dumpsTyped(value), loadsTyped: (type, bytes) => jsonPlus.loadsTyped(type, bytes) };
    for (const serde of [new Sub(), patched, other]) {
      const fast = new FastSerde(serde);
      expect(fast.plain).toBe(false);
      expect(fast.dumpSync({ plain: true })).toBeUndefined();
    }
  });
});

describe('AbathurSaver with its serializer', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('calls a serializer of its own for every value, and one assigned later', async () => {
    const store = await openStore({ path: tempDbPath(), readers: 1 });
    stores.push(store);
    const mine = new (class extends JsonPlusSerializer {})();
    const dumps = vi.spyOn(mine, 'dumpsTyped');
    const saver = new AbathurSaver(store, { serde: mine });
    const config = { configurable: { thread_id: 't', checkpoint_ns: '' } };
    const checkpoint: Checkpoint = { ...emptyCheckpoint(), id: uuid6(-1), channel_values: { a: { x: 1 } }, channel_versions: { a: 1 } };
    const stored = await saver.put(config, checkpoint, { source: 'input', step: -1, parents: {} }, { a: 1 });
    // The checkpoint, its metadata and channel a.
    expect(dumps).toHaveBeenCalledTimes(3);
    const later = new (class extends JsonPlusSerializer {})();
    const laterDumps = vi.spyOn(later, 'dumpsTyped');
    saver.serde = later;
    await saver.putWrites(stored, [['a', { y: 2 }]], 'task');
    expect(laterDumps).toHaveBeenCalledTimes(1);
    const tuple = (await saver.getTuple(stored))!;
    expect(tuple.checkpoint.channel_values).toEqual({ a: { x: 1 } });
    expect(tuple.pendingWrites).toEqual([['task', 'a', { y: 2 }]]);
  });
});

describe('buffers moved to the writer thread', () => {
  it('marks only whole buffers of their own, and hands each mark out once', () => {
    expect(ownsBuffer(new TextEncoder().encode('abc'))).toBe(true);
    expect(ownsBuffer(new Uint8Array(new ArrayBuffer(8), 2, 4))).toBe(false);
    expect(ownsBuffer(new Uint8Array(0))).toBe(false);
    expect(ownsBuffer(Buffer.from('pooled'))).toBe(false);
    const buffer = new ArrayBuffer(4);
    const args = transferOnSend([1] as const, [buffer]);
    expect(transfersOf(args)).toEqual([buffer]);
    expect(transfersOf(args)).toBeUndefined();
    expect(transfersOf(transferOnSend([2], []))).toBeUndefined();
  });

  it('stores a batch whose calls name one buffer twice, or one already moved', async () => {
    const store = await openStore({ path: tempDbPath(), readers: 1 });
    try {
      const engine = engineOf(store);
      const bytes = new TextEncoder().encode('"shared"');
      const fresh = new TextEncoder().encode('"fresh"');
      const gone = new TextEncoder().encode('"moved"');
      structuredClone(gone.buffer, { transfer: [gone.buffer] });
      const record = (checkpointId: string, values: Uint8Array[]) => ({
        threadId: 't',
        ns: '',
        checkpointId,
        taskId: 'task',
        taskPath: '',
        writes: values.map((value, i): [number, string, string, Uint8Array] => [i, 'c', 'json', value]),
        replace: false,
      });
      // Two calls in one batch (same tick), the first naming its one buffer twice. Either would make
      // postMessage throw, and fail both calls, if it went into the transfer list as named.
      await Promise.all([
        engine.call(lgWritesPut, () => transferOnSend([record('a', [bytes, bytes])] as const, [bytes.buffer, bytes.buffer])),
        // The second names a buffer moved elsewhere already (detached) beside its own.
        engine.call(lgWritesPut, () => transferOnSend([record('b', [fresh])] as const, [gone.buffer, fresh.buffer])),
      ]);
      const saver = new AbathurSaver(store);
      const checkpoint: Checkpoint = { ...emptyCheckpoint(), id: 'a', channel_values: {}, channel_versions: {} };
      await saver.put({ configurable: { thread_id: 't', checkpoint_ns: '' } }, checkpoint, { source: 'input', step: -1, parents: {} }, {});
      const tuple = (await saver.getTuple({ configurable: { thread_id: 't', checkpoint_ns: '', checkpoint_id: 'a' } }))!;
      expect(tuple.pendingWrites).toEqual([
        ['task', 'c', 'shared'],
        ['task', 'c', 'shared'],
      ]);
    } finally {
      await store.close();
    }
  });
});
