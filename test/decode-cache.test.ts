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

  it('gives an entry used since it was placed a second chance: the oldest unused ones go first', () => {
    const cache = new DecodeCache<string, number>(10);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, 1);
    expect(cache.get('k0')).toBe(0);
    expect(cache.get('k5')).toBe(5);
    cache.set('x', 10, 3); // k0 was used: kept; k1, k2 and k3 go
    expect(['k1', 'k2', 'k3'].map((k) => cache.get(k))).toEqual([undefined, undefined, undefined]);
    expect(cache.get('k0')).toBe(0);
    expect(cache.size).toBe(8);
    expect(cache.bytes).toBe(10);
    // Every entry held is used now (k0 again; the rest read here): the newest value is still kept, and the first of the others goes.
    for (const k of ['k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'x']) cache.get(k);
    cache.set('y', 11, 1);
    expect(cache.get('y')).toBe(11);
    expect(cache.get('k4')).toBeUndefined();
    expect(cache.bytes).toBe(10);
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
