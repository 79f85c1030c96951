import { describe, expect, it } from 'vitest';
import { DecodeCache, deepFreeze } from '../src/services/decode-cache.js';

describe('decode cache', () => {
  it('keeps values within its bound of bytes, dropping the least recently used first', () => {
    const cache = new DecodeCache<string, number>(10);
    cache.set('a', 1, 4);
    cache.set('b', 2, 4);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3, 4); // 12 bytes: b goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.bytes).toBe(8);
    cache.set('a', 4, 2); // replaced, not added
    expect(cache.bytes).toBe(6);
    expect(cache.size).toBe(2);
    cache.set('big', 5, 11); // larger than the bound: not kept, and evicts nothing
    expect(cache.get('big')).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.delete('a');
    expect(cache.bytes).toBe(4);
  });

  it('moves a hit only once it is in the older half: a hit in the newer half keeps its place', () => {
    const cache = new DecodeCache<string, number>(10);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, 1);
    expect(cache.get('k0')).toBe(0); // the oldest: moved to the end
    cache.set('x', 10, 1); // k1 goes, not k0
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k9')).toBe(9); // in the newer half: stays where it is, before k0 and x
    for (let i = 0; i < 8; i++) cache.set(`y${i}`, i, 1); // drops the 8 oldest: k2 … k9
    expect([...['k8', 'k9'].map((k) => cache.get(k))]).toEqual([undefined, undefined]);
    expect(cache.get('k0')).toBe(0);
    expect(cache.get('x')).toBe(10);
    expect(cache.size).toBe(10);
  });

  it('keeps nothing with a bound of 0', () => {
    const cache = new DecodeCache<string, number>(0);
    expect(cache.enabled).toBe(false);
    cache.set('a', 1, 1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('freezes a value all the way down', () => {
    const value = deepFreeze({ a: [{ b: 1 }], c: { d: 'x' } });
    expect(Object.isFrozen(value.a[0])).toBe(true);
    expect(Object.isFrozen(value.c)).toBe(true);
    expect(() => {
      (value.a[0] as { b: number }).b = 2;
    }).toThrow(TypeError);
  });
});
