import { emptyCheckpoint, uuid6, type Checkpoint, type CheckpointMetadata, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { expect, it, vi } from 'vitest';
import { messagesStateReducer } from '@langchain/langgraph';
import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { engineOf, type Store } from '../src/store.js';
import type { StoredCheckpoint } from '../src/catalogue/langgraph.js';
import { AbathurSaver } from '../src/langgraph/index.js';
import { describeEachEngine } from './helpers/engines.js';

// getTuple keeps the channel values it decoded (a value never changes under its version):
// the store sends only those it does not hold, they are decoded once, handed out frozen,
// and a deleted thread's values are not taken for a new one's.

const root = { configurable: { thread_id: 't', checkpoint_ns: '' } };
const metadata: CheckpointMetadata = { source: 'loop', step: 0, parents: {} };

function checkpoint(values: Record<string, unknown>, versions: Record<string, number>): Checkpoint {
  return { ...emptyCheckpoint(), id: uuid6(-3), channel_values: values, channel_versions: versions };
}

/** For each `langgraph.checkpoint.get`, the channels whose bytes the store sent, in call order. */
function sentChannels(store: Store): string[][] {
  const engine = engineOf(store);
  const call = engine.call.bind(engine);
  const sent: string[][] = [];
  vi.spyOn(engine, 'call').mockImplementation(async (operation, build, signal) => {
    const result = await call(operation, build, signal);
    if (operation.name === 'langgraph.checkpoint.get' && result !== undefined) {
      sent.push((result as StoredCheckpoint).values.filter(([, , bytes]) => bytes !== null).map(([channel]) => channel));
    }
    return result;
  });
  return sent;
}

const documents = { docs: Array.from({ length: 50 }, (_, i) => ({ id: i, text: `document ${i}` })) };

describeEachEngine('AbathurSaver: decoded channel values', (engine) => {
  it('decodes a value once, and on SQLite is sent only the values of the channels that changed', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    const first = await saver.put(root, checkpoint({ documents, turn: 1 }, { documents: 1, turn: 1 }), metadata, { documents: 1, turn: 1 });
    const sent = sentChannels(store);
    const a = (await saver.getTuple(root))!;
    await saver.put(first, checkpoint({ documents, turn: 2 }, { documents: 1, turn: 2 }), metadata, { turn: 2 });
    const b = (await saver.getTuple(root))!;
    expect(b.checkpoint.channel_values).toEqual({ documents, turn: 2 });
    // The same decoded object: not decoded again.
    expect(b.checkpoint.channel_values.documents).toBe(a.checkpoint.channel_values.documents);
    expect(sent[0]!.sort()).toEqual(['documents', 'turn']);
    // PostgreSQL sends every value (its one statement aggregates them all); SQLite only the changed one.
    expect(sent[1]).toEqual(engine.name === 'sqlite' ? ['turn'] : ['documents', 'turn']);
  });

  it('hands out values no caller can change for the next one', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    await saver.put(root, checkpoint({ documents }, { documents: 1 }), metadata, { documents: 1 });
    const got = (await saver.getTuple(root))!.checkpoint.channel_values.documents as typeof documents;
    expect(() => {
      got.docs[0]!.text = 'changed';
    }).toThrow(TypeError);
    expect(() => got.docs.push({ id: 99, text: 'more' })).toThrow(TypeError);
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents });
  });

  it('keeps no value whose contents freezing leaves writable (a Map, a Set, bytes inside a value): each caller gets its own', async () => {
    const saver = new AbathurSaver(await engine.open());
    const values = { map: new Map([['a', 1]]), set: new Set([1]), nested: { data: new Uint8Array([1, 2, 3]) }, pattern: /x/g };
    const versions = { map: 1, set: 1, nested: 1, pattern: 1 };
    await saver.put(root, checkpoint(values, versions), metadata, versions);
    const got = (await saver.getTuple(root))!.checkpoint.channel_values as typeof values;
    got.map.set('b', 2);
    got.set.add(2);
    got.nested.data[0] = 9;
    expect(got.pattern.test('x')).toBe(true); // moves its lastIndex: throws when frozen
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual(values);
  });

  it('hands out messages without ids unfrozen, as LangGraph’s messages reducer gives them ids in place', async () => {
    const saver = new AbathurSaver(await engine.open());
    // Stored so by an Overwrite, or by a first write to a channel without a default (the reducer is not called).
    await saver.put(root, checkpoint({ messages: [new HumanMessage('hi')] }, { messages: 1 }), metadata, { messages: 1 });
    for (let i = 0; i < 2; i++) {
      const left = (await saver.getTuple(root))!.checkpoint.channel_values.messages as BaseMessage[];
      const merged = messagesStateReducer(left, [new HumanMessage({ content: 'again', id: 'm2' })]);
      expect(merged.map((m) => m.content)).toEqual(['hi', 'again']);
    }
  });

  it('hands out a value that contains itself (from a serializer of its own) without freezing it', async () => {
    const serde: SerializerProtocol = {
      dumpsTyped: (value) => Promise.resolve(['json', new TextEncoder().encode(JSON.stringify(value))]),
      loadsTyped: (_type, bytes) => {
        const value = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes)) as Record<string, unknown>;
        if (typeof value === 'object' && value !== null && 'self' in value) value.self = value;
        return Promise.resolve(value);
      },
    };
    const saver = new AbathurSaver(await engine.open(), { serde });
    await saver.put(root, checkpoint({ node: { self: null, n: 1 } }, { node: 1 }), metadata, { node: 1 });
    for (let i = 0; i < 2; i++) {
      const node = (await saver.getTuple(root))!.checkpoint.channel_values.node as { self: unknown; n: number };
      expect(node.self).toBe(node);
      expect(node.n).toBe(1);
    }
  });

  it('does not take a deleted thread’s values for a new checkpoint that reuses their versions', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    await saver.put(root, checkpoint({ documents }, { documents: 1 }), metadata, { documents: 1 });
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents });
    await saver.deleteThread('t');
    await saver.put(root, checkpoint({ documents: 'other' }, { documents: 1 }), metadata, { documents: 1 });
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents: 'other' });
  });

  it('does not keep values read before a deleteThread that ended while they were decoded', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store);
    await saver.put(root, checkpoint({ documents }, { documents: 1 }), metadata, { documents: 1 });
    const engineOfStore = engineOf(store);
    const call = engineOfStore.call.bind(engineOfStore);
    let interleave = true;
    vi.spyOn(engineOfStore, 'call').mockImplementation(async (operation, build, signal) => {
      const result = await call(operation, build, signal);
      if (operation.name === 'langgraph.checkpoint.get' && interleave) {
        // The thread is deleted and made again, under the same versions, before this read is decoded.
        interleave = false;
        await saver.deleteThread('t');
        await saver.put(root, checkpoint({ documents: 'other' }, { documents: 1 }), metadata, { documents: 1 });
      }
      return result;
    });
    // The read in flight answers what it read.
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents });
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents: 'other' });
  });

  it('reads the checkpoint again when a value the store did not send was dropped from the cache before the answer', async () => {
    const store = await engine.open();
    // Room for one of the two values only.
    const saver = new AbathurSaver(store, { decodeCacheBytes: 2500 });
    const other = { configurable: { thread_id: 'u', checkpoint_ns: '' } };
    await saver.put(root, checkpoint({ documents }, { documents: 1 }), metadata, { documents: 1 });
    await saver.put(other, checkpoint({ documents: { ...documents, owner: 'u' } }, { documents: 1 }), metadata, { documents: 1 });
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents });
    const engineOfStore = engineOf(store);
    const call = engineOfStore.call.bind(engineOfStore);
    const reads: number[] = [];
    let interleave = true;
    vi.spyOn(engineOfStore, 'call').mockImplementation(async (operation, build, signal) => {
      const result = await call(operation, build, signal);
      if (operation.name === 'langgraph.checkpoint.get') reads.push((result as StoredCheckpoint).values.filter(([, , bytes]) => bytes !== null).length);
      if (operation.name === 'langgraph.checkpoint.get' && interleave) {
        // Between the answer and its decoding, the other thread's value takes the cache's room.
        interleave = false;
        await saver.getTuple(other);
      }
      return result;
    });
    expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents });
    // SQLite: the first answer held no bytes (the value was held), then the whole checkpoint; PostgreSQL sends every value once.
    expect(reads).toEqual(engine.name === 'sqlite' ? [0, 1, 1] : [1, 1]);
  });

  it('asks the store once per getTuple when the threads read in turn hold more than the cache', async () => {
    const store = await engine.open();
    // Room for one thread's value only: each thread's getTuple drops the other's.
    const saver = new AbathurSaver(store, { decodeCacheBytes: 2500 });
    const threads = ['t', 'u'].map((thread_id) => ({ configurable: { thread_id, checkpoint_ns: '' } }));
    // A small channel beside it, named before it in one thread and after it in the other.
    const versions = [{ turn: 1, documents: 1 }, { documents: 1, turn: 1 }];
    for (const [i, config] of threads.entries()) await saver.put(config, checkpoint({ documents, turn: i }, versions[i]!), metadata, versions[i]!);
    const sent = sentChannels(store);
    for (let round = 0; round < 3; round++) {
      for (const [i, config] of threads.entries()) expect((await saver.getTuple(config))!.checkpoint.channel_values).toEqual({ documents, turn: i });
    }
    // One read per getTuple, each with the bytes of `documents` (the other thread's took its room).
    expect(sent).toHaveLength(6);
    for (const channels of sent) expect(channels).toContain('documents');
  });

  it('keeps apart threads and namespaces whose names run together (a NUL inside a name)', async () => {
    const saver = new AbathurSaver(await engine.open());
    // ('a\0b', '') and ('a', 'b\0') joined with NUL separators read the same.
    const places = [
      { configurable: { thread_id: 'a\u0000b', checkpoint_ns: '' } },
      { configurable: { thread_id: 'a', checkpoint_ns: 'b\u0000' } },
    ];
    // PostgreSQL refuses the NUL character in text (INVALID_ARGUMENT): nothing to keep apart.
    if (!engine.canHold(places[0]!.configurable.thread_id)) return;
    for (const [i, place] of places.entries()) {
      await saver.put(place, checkpoint({ owner: `thread ${i}` }, { owner: 1 }), metadata, { owner: 1 });
      expect((await saver.getTuple(place))!.checkpoint.channel_values).toEqual({ owner: `thread ${i}` });
    }
    await saver.deleteThread('a');
    expect((await saver.getTuple(places[0]!))!.checkpoint.channel_values).toEqual({ owner: 'thread 0' });
  });

  it('does not name as held a value larger than the cache, so the store is asked once per getTuple', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store, { decodeCacheBytes: 256 });
    await saver.put(root, checkpoint({ documents, turn: 1 }, { documents: 1, turn: 1 }), metadata, { documents: 1, turn: 1 });
    const sent = sentChannels(store);
    for (let i = 0; i < 3; i++) expect((await saver.getTuple(root))!.checkpoint.channel_values).toEqual({ documents, turn: 1 });
    // Each getTuple one read: `documents` (over 256 bytes) sent each time, `turn` held after the first.
    expect(sent.map((channels) => channels.sort())).toEqual(
      engine.name === 'sqlite' ? [['documents', 'turn'], ['documents'], ['documents']] : [['documents', 'turn'], ['documents', 'turn'], ['documents', 'turn']],
    );
  });

  it('with decodeCacheBytes 0 decodes every value each time, as mutable objects', async () => {
    const store = await engine.open();
    const saver = new AbathurSaver(store, { decodeCacheBytes: 0 });
    await saver.put(root, checkpoint({ documents }, { documents: 1 }), metadata, { documents: 1 });
    const sent = sentChannels(store);
    const a = (await saver.getTuple(root))!.checkpoint.channel_values.documents;
    const b = (await saver.getTuple(root))!.checkpoint.channel_values.documents;
    expect(b).not.toBe(a);
    expect(Object.isFrozen(b)).toBe(false);
    expect(sent).toEqual([['documents'], ['documents']]);
    expect(() => new AbathurSaver(store, { decodeCacheBytes: -1 })).toThrow(/decodeCacheBytes must be an integer/);
  });
});
