import { emptyCheckpoint, JsonPlusSerializer, uuid6, type Checkpoint, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FastSerde, isPlainJson } from '../src/langgraph/plain-json.js';
import { AbathurSaver } from '../src/langgraph/index.js';
import { openStore, type Store } from '../src/store.js';
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
      const mine = fast.dumpSync(value, true)!;
      expect(mine.type).toBe(type);
      expect(text(mine.bytes)).toBe(text(bytes));
      expect(mine.json).toBe(text(bytes));
      // Without keepText the bytes are the same and the text is not held.
      const bare = fast.dumpSync(value)!;
      expect(text(bare.bytes)).toBe(text(bytes));
      expect(bare.json).toBeUndefined();
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

  it('hands deep nesting and bytes that are not JSON to the serializer, which answers as it would', async () => {
    const fast = new FastSerde(jsonPlus);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(isPlainJson(deep)).toBe(false);
    const [type, bytes] = await jsonPlus.dumpsTyped(deep);
    expect(await fast.load(type, bytes)).toEqual(deep);
    const broken = new TextEncoder().encode('{"unterminated":');
    await expect(Promise.resolve().then(() => fast.load('json', broken))).rejects.toThrow(SyntaxError);
    await expect(jsonPlus.loadsTyped('json', broken)).rejects.toThrow(SyntaxError);
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
