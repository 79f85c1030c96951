import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/catalogue/cursor.js';

// A cursor comes back from the caller: anything that is not one the list returned is
// refused with INVALID_ARGUMENT before it reaches a statement.

const forged = (values: unknown): string => Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
const refused = { code: 'INVALID_ARGUMENT', message: 'cursor is not one this list returned' };

describe('cursors', () => {
  it('round-trip the values of their shape: s string, S string or null, n safe integer', () => {
    const values = ['a/b', null, 42];
    const cursor = encodeCursor(values);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor, 'base64url').toString('utf8')).toBe('["a/b",null,42]');
    expect(decodeCursor(cursor, 'sSn')).toEqual(values);
    expect(decodeCursor(forged(['x', 'y']), 'sS')).toEqual(['x', 'y']);
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['JSON that is not an array', forged({ 0: 'a' })],
    ['an object with a length', forged({ length: 2 })],
    ['a string of the right length', forged('ab')],
    ['too few values', forged(['a'])],
    ['too many values', forged(['a', 1, 2])],
    ['a string where a number goes', forged(['a', '1'])],
    ['a fraction where an integer goes', forged(['a', 1.5])],
    ['null where a string goes', forged([null, 1])],
    ['a number where a string goes', forged([7, 1])],
  ])('refuses %s', (_, cursor) => {
    expect(() => decodeCursor(cursor, 'sn')).toThrow(expect.objectContaining(refused) as Error);
  });

  it('takes null where a string may be null, and nothing else but a string there', () => {
    expect(decodeCursor(forged([null]), 'S')).toEqual([null]);
    for (const value of [7, true, {}, []]) {
      expect(() => decodeCursor(forged([value]), 'S')).toThrow(expect.objectContaining(refused) as Error);
    }
  });
});
