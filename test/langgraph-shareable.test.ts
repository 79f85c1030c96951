import { describe, expect, it } from 'vitest';
import { HumanMessage } from '@langchain/core/messages';
import { freezeShared, isShareable } from '../src/langgraph/shareable.js';

// What the LangGraph saver's decode cache may hand to every caller: values that freezing
// leaves no caller a way to change.

describe('isShareable and freezeShared', () => {
  it('takes primitives, arrays, plain objects and class instances made of them', () => {
    class Message {
      constructor(readonly content: string, readonly meta: { tags: string[] }) {}
    }
    for (const value of [null, 1, 'x', true, undefined, 10n, [1, [2]], { a: { b: [null] } }, Object.create(null), new Message('m', { tags: ['t'] })]) {
      expect(isShareable(value)).toBe(true);
    }
  });

  it('refuses values whose contents Object.freeze leaves writable, at any depth', () => {
    const refused = [new Map(), new Set(), new WeakMap(), new WeakSet(), new Date(0), /x/g, new ArrayBuffer(1), new SharedArrayBuffer(1), new DataView(new ArrayBuffer(1)), new Uint8Array(1)];
    for (const value of refused) {
      expect(isShareable(value)).toBe(false);
      expect(isShareable({ deep: [{ value }] })).toBe(false);
      const outer = { deep: [{ value }] };
      expect(freezeShared(outer)).toBe(false);
      expect(Object.isFrozen(outer)).toBe(false);
      expect(Object.isFrozen(outer.deep)).toBe(false);
    }
  });

  it('refuses a LangChain message without an id, which LangGraph gives one in place', () => {
    expect(isShareable([new HumanMessage('no id')])).toBe(false);
    expect(isShareable([new HumanMessage({ content: 'with id', id: 'm1' })])).toBe(true);
  });

  it('refuses a value that contains itself, and one of more than 256 levels of objects', () => {
    const cycle: Record<string, unknown> = { n: 1 };
    cycle.self = { back: cycle };
    expect(freezeShared(cycle)).toBe(false);
    expect(Object.isFrozen(cycle)).toBe(false);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 257; i++) deep = [deep];
    expect(isShareable(deep)).toBe(false);
    expect(isShareable((deep as unknown[])[0])).toBe(true);
  });

  it('freezes everything reachable, once per shared part, and what an object frozen already holds', () => {
    const shared = { list: [1, 2] };
    const held = { inner: { n: 1 } };
    const value = { a: shared, b: shared, frozen: Object.freeze(held) };
    // Parts shared by a chain of 64 links, each twice: walked once each, not 2^64 times.
    let chain: unknown = { end: true };
    for (let i = 0; i < 64; i++) chain = { left: chain, right: chain };
    expect(freezeShared(chain)).toBe(true);
    expect(freezeShared(value)).toBe(true);
    for (const part of [value, shared, shared.list, held, held.inner]) expect(Object.isFrozen(part)).toBe(true);
    expect(freezeShared('text')).toBe(true);
  });
});
