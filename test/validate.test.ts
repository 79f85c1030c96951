import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import * as v from '../src/api/validate.js';

/** The INVALID_ARGUMENT message a check throws, or 'ok'. */
function refusal(check: () => unknown): string {
  try {
    check();
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('INVALID_ARGUMENT');
    return (error as StoreError).message;
  }
}

const MiB = 1 << 20;

class Point {
  x = 1;
}

describe('argument checks', () => {
  it('text: a string of at most max characters', () => {
    expect(v.text('prompt', 'hi')).toBe('hi');
    expect(v.text('prompt', 'x'.repeat(5), 5)).toBe('xxxxx');
    expect(refusal(() => v.text('prompt', 'x'.repeat(6), 5))).toBe('prompt must be at most 5 characters, got 6');
    expect(refusal(() => v.text('prompt', 42))).toBe('prompt must be a string, got number 42');
    expect(v.text('prompt', 'x'.repeat(1 << 20))).toHaveLength(1 << 20);
    expect(refusal(() => v.text('prompt', 'x'.repeat((1 << 20) + 1)))).toBe(`prompt must be at most ${1 << 20} characters, got ${(1 << 20) + 1}`);
    expect(v.optionalText('title', undefined)).toBeNull();
    expect(v.optionalText('title', null)).toBeNull();
    expect(v.optionalText('title', 'a')).toBe('a');
    expect(refusal(() => v.optionalText('title', 'abc', 2))).toBe('title must be at most 2 characters, got 3');
  });

  it('describes what it got: null, arrays, long strings, numbers, objects, other types', () => {
    expect(refusal(() => v.text('t', null))).toBe('t must be a string, got null');
    expect(refusal(() => v.text('t', [1]))).toBe('t must be a string, got an array');
    expect(refusal(() => v.identifier('t', 'x'.repeat(2000)))).toBe('t must be at most 1024 characters, got 2000');
    expect(refusal(() => v.integer('t', 'x'.repeat(41), 0, 1))).toBe('t must be an integer from 0 to 1, got a string of 41 characters');
    expect(refusal(() => v.integer('t', 'x'.repeat(40), 0, 1))).toBe(`t must be an integer from 0 to 1, got "${'x'.repeat(40)}"`);
    expect(refusal(() => v.text('t', true))).toBe('t must be a string, got boolean true');
    expect(refusal(() => v.text('t', 10n))).toBe('t must be a string, got bigint 10');
    expect(refusal(() => v.text('t', new Point()))).toBe('t must be a string, got a Point object');
    expect(refusal(() => v.text('t', Object.create(null)))).toBe('t must be a string, got a null-prototype object');
    expect(refusal(() => v.text('t', {}))).toBe('t must be a string, got an object');
    expect(refusal(() => v.text('t', new Error('x')))).toBe('t must be a string, got an Error object');
    expect(refusal(() => v.text('t', new Date(0)))).toBe('t must be a string, got a Date object');
    expect(refusal(() => v.text('t', undefined))).toBe('t must be a string, got undefined');
    expect(refusal(() => v.text('t', () => 1))).toBe('t must be a string, got function');
  });

  it('identifier: non-empty, at most 1024 characters, no control characters', () => {
    expect(v.identifier('id', 'a')).toBe('a');
    expect(v.identifier('id', 'x'.repeat(1024))).toHaveLength(1024);
    expect(refusal(() => v.identifier('id', ''))).toBe('id must not be empty');
    expect(refusal(() => v.identifier('id', 'x'.repeat(1025)))).toBe('id must be at most 1024 characters, got 1025');
    expect(refusal(() => v.identifier('id', 'a\u0000b'))).toBe('id must not contain control characters');
    expect(refusal(() => v.identifier('id', 'a\u001fb'))).toBe('id must not contain control characters');
    expect(refusal(() => v.identifier('id', 'a\u007fb'))).toBe('id must not contain control characters');
    expect(v.identifier('id', 'a b\u0080')).toBe('a b\u0080');
    expect(refusal(() => v.identifier('id', 7))).toBe('id must be a string, got number 7');
    expect(v.optionalIdentifier('id', undefined)).toBeNull();
    expect(v.optionalIdentifier('id', null)).toBeNull();
    expect(v.optionalIdentifier('id', 'x')).toBe('x');
    expect(refusal(() => v.optionalIdentifier('id', ''))).toBe('id must not be empty');
  });

  it('namespace: colon-separated non-empty segments; segment: no colon', () => {
    expect(v.namespace('ns', 'user:alice:prefs')).toBe('user:alice:prefs');
    expect(v.namespace('ns', 'app')).toBe('app');
    for (const bad of ['user:', ':user', 'user::alice']) {
      expect(refusal(() => v.namespace('ns', bad))).toBe(
        `ns must be colon-separated non-empty segments (like user:alice:preferences), got ${JSON.stringify(bad)}`,
      );
    }
    expect(refusal(() => v.namespace('ns', ''))).toBe('ns must not be empty');
    expect(v.segment('userId', 'alice')).toBe('alice');
    expect(refusal(() => v.segment('userId', 'a:b'))).toBe(`userId must not contain ':' (it names one namespace segment), got "a:b"`);
    expect(refusal(() => v.segment('userId', ''))).toBe('userId must not be empty');
  });

  it('integer and finiteNumber: ranges inclusive, integers only, finite only', () => {
    expect(v.integer('n', 1, 1, 10)).toBe(1);
    expect(v.integer('n', 10, 1, 10)).toBe(10);
    expect(refusal(() => v.integer('n', 0, 1, 10))).toBe('n must be an integer from 1 to 10, got number 0');
    expect(refusal(() => v.integer('n', 11, 1, 10))).toBe('n must be an integer from 1 to 10, got number 11');
    expect(refusal(() => v.integer('n', 1.5, 1, 10))).toBe('n must be an integer from 1 to 10, got number 1.5');
    expect(refusal(() => v.integer('n', '1', 1, 10))).toBe('n must be an integer from 1 to 10, got "1"');
    expect(v.optionalInteger('n', undefined, 1, 2)).toBeNull();
    expect(v.optionalInteger('n', null, 1, 2)).toBeNull();
    expect(v.optionalInteger('n', 2, 1, 2)).toBe(2);
    expect(refusal(() => v.optionalInteger('n', 3, 1, 2))).toBe('n must be an integer from 1 to 2, got number 3');
    expect(v.finiteNumber('x', -1.5)).toBe(-1.5);
    expect(v.finiteNumber('x', 0, 0)).toBe(0);
    expect(refusal(() => v.finiteNumber('x', -0.1, 0))).toBe('x must be a finite number ≥ 0, got number -0.1');
    expect(refusal(() => v.finiteNumber('x', Number.NaN))).toBe('x must be a finite number, got number NaN');
    expect(refusal(() => v.finiteNumber('x', Infinity))).toBe('x must be a finite number, got number Infinity');
    expect(refusal(() => v.finiteNumber('x', '1'))).toBe('x must be a finite number, got "1"');
  });

  it('boolean and oneOf', () => {
    expect(v.boolean('b', false)).toBe(false);
    expect(refusal(() => v.boolean('b', 0))).toBe('b must be true or false, got number 0');
    expect(v.oneOf('mode', 'a', ['a', 'b'])).toBe('a');
    expect(refusal(() => v.oneOf('mode', 'c', ['a', 'b']))).toBe('mode must be one of a, b; got "c"');
    expect(refusal(() => v.oneOf('mode', 1, ['a', 'b']))).toBe('mode must be one of a, b; got number 1');
  });

  it('json: returns the JSON text of what JSON holds unchanged, and names the path of what it cannot', () => {
    expect(v.json('value', { a: [1, 'x', true, null, { b: -0.5 }] }, MiB)).toBe('{"a":[1,"x",true,null,{"b":-0.5}]}');
    expect(v.json('value', { a: 1, skipped: undefined }, MiB)).toBe('{"a":1}');
    expect(v.json('value', Object.assign(Object.create(null), { a: 1 }), MiB)).toBe('{"a":1}');
    expect(refusal(() => v.json('value', { a: [1, Number.NaN] }, MiB))).toBe('value.a[1] is NaN, which JSON cannot hold');
    expect(refusal(() => v.json('value', { a: Infinity }, MiB))).toBe('value.a is Infinity, which JSON cannot hold');
    expect(refusal(() => v.json('value', [1, undefined], MiB))).toBe('value[1] is undefined, which JSON cannot hold');
    expect(refusal(() => v.json('value', { d: new Date(0) }, MiB))).toBe('value.d is a Date object, not a plain object or array; convert it first');
    expect(refusal(() => v.json('value', { f: () => 1 }, MiB))).toBe('value.f is function, which JSON cannot hold');
    expect(refusal(() => v.json('value', 1n, MiB))).toBe('value is bigint 1, which JSON cannot hold');
    expect(refusal(() => v.json('value', undefined, MiB))).toBe('value is undefined, which JSON cannot hold');
    const cycle: Record<string, unknown> = { a: {} };
    (cycle.a as Record<string, unknown>).back = cycle;
    expect(refusal(() => v.json('value', cycle, MiB))).toBe('value.a.back refers back to itself (a cycle), which JSON cannot hold');
    // The same object twice, not nested in itself, is no cycle.
    const shared = { x: 1 };
    expect(v.json('value', [shared, shared], MiB)).toBe('[{"x":1},{"x":1}]');
    let deep: unknown = 1;
    for (let i = 0; i < 512; i++) deep = [deep];
    expect(v.json('value', deep, MiB)).toHaveLength(1025);
    expect(refusal(() => v.json('value', [deep], MiB))).toMatch(/nests deeper than 512 levels$/);
    expect(v.optionalJson('value', undefined, MiB)).toBeNull();
    expect(v.optionalJson('value', null, MiB)).toBeNull();
    expect(v.optionalJson('value', 0, MiB)).toBe('0');
  });

  it('jsonObject: a plain object only', () => {
    expect(v.jsonObject('state', { a: 1 }, MiB)).toBe('{"a":1}');
    expect(refusal(() => v.jsonObject('state', [1], MiB))).toBe('state must be a plain object, got an array');
    expect(refusal(() => v.jsonObject('state', null, MiB))).toBe('state must be a plain object, got null');
    expect(refusal(() => v.jsonObject('state', new Point(), MiB))).toBe('state must be a plain object, got a Point object');
    expect(v.optionalJsonObject('state', undefined, MiB)).toBeNull();
    expect(v.optionalJsonObject('state', null, MiB)).toBeNull();
    expect(v.optionalJsonObject('state', {}, MiB)).toBe('{}');
    expect(v.isPlainObject({})).toBe(true);
    expect(v.isPlainObject(Object.create(null))).toBe(true);
    expect(v.isPlainObject([])).toBe(false);
    expect(v.isPlainObject(null)).toBe(false);
    expect(v.isPlainObject('x')).toBe(false);
    expect(v.isPlainObject(new Point())).toBe(false);
  });

  it('options: known keys only, a misspelling named, one shared empty bag for none', () => {
    const none = v.options('options', undefined, ['limit']);
    expect(none).toEqual({});
    expect(v.options('options', null, ['limit'])).toBe(none);
    expect(Object.isFrozen(none)).toBe(true);
    const given = { limit: 5 };
    expect(v.options('options', given, ['limit', 'cursor'])).toBe(given);
    expect(refusal(() => v.options('options', { Limit: 5 }, ['limit']))).toBe('options: misspelled option "Limit" should be "limit"');
    expect(refusal(() => v.options('options', { size: 5 }, ['limit', 'cursor']))).toBe(
      'options has an unknown option "size" (known: limit, cursor, signal)',
    );
    // Every call's options may carry its AbortSignal; a nested object's may not.
    const signal = new AbortController().signal;
    expect(v.options('options', { signal }, ['limit'])).toEqual({ signal });
    expect(refusal(() => v.options('input', { signal }, ['limit'], { call: false }))).toBe(
      'input has an unknown option "signal" (known: limit)',
    );
    expect(refusal(() => v.options('options', { size: 5 }, [], { call: false }))).toBe('options has an unknown option "size" (known: none)');
    expect(refusal(() => v.options('options', 'x', ['limit']))).toBe('options must be an object, got "x"');
  });

  it('options: required keys missing are named together, in one message', () => {
    const known = ['name', 'specialization', 'taskId', 'model', 'sessionId'] as const;
    const required = ['name', 'specialization', 'taskId', 'model'] as const;
    expect(refusal(() => v.options('input', {}, known, { required }))).toBe('input is missing name, specialization, taskId and model (required)');
    expect(refusal(() => v.options('input', { name: 'n', model: undefined }, known, { required }))).toBe(
      'input is missing specialization, taskId and model (required)',
    );
    expect(refusal(() => v.options('input', { name: 'n', specialization: 's', taskId: 't' }, known, { required }))).toBe('input is missing model (required)');
    expect(refusal(() => v.options('input', undefined, known, { required }))).toBe('input must be an object with name, specialization, taskId and model, got undefined');
    expect(refusal(() => v.options('input', 7, known, { required: ['name'] }))).toBe('input must be an object with name, got number 7');
    const given = { name: 'n', specialization: 's', taskId: 't', model: 'm' };
    expect(v.options('input', given, known, { required })).toBe(given);
    // A misspelled key is still named as such, before what is missing.
    expect(refusal(() => v.options('input', { Name: 'n' }, known, { required }))).toBe('input: misspelled option "Name" should be "name"');
  });

  it('limit: 50 by default, 1 to 1000', () => {
    expect(v.limit(undefined)).toBe(50);
    expect(v.limit(undefined, 7)).toBe(7);
    expect(v.limit(1000)).toBe(1000);
    expect(refusal(() => v.limit(1001))).toBe('limit must be an integer from 1 to 1000, got number 1001');
    expect(refusal(() => v.limit(0))).toBe('limit must be an integer from 1 to 1000, got number 0');
    expect(v.limit(20, 50, 20)).toBe(20);
    expect(refusal(() => v.limit(21, 50, 20))).toBe('limit must be an integer from 1 to 20, got number 21');
  });

  it('auditContext: taskId and agentId, empty parts dropped', () => {
    expect(v.auditContext(undefined)).toBeUndefined();
    expect(v.auditContext({})).toBeUndefined();
    expect(v.auditContext({ taskId: undefined, agentId: null })).toBeUndefined();
    expect(v.auditContext({ taskId: 't' })).toStrictEqual({ taskId: 't' });
    expect(v.auditContext({ agentId: 'a' })).toStrictEqual({ agentId: 'a' });
    expect(v.auditContext({ taskId: 't', agentId: 'a' })).toStrictEqual({ taskId: 't', agentId: 'a' });
    expect(refusal(() => v.auditContext({ taskId: '' }))).toBe('ctx.taskId must not be empty');
    expect(refusal(() => v.auditContext({ agentId: 3 }))).toBe('ctx.agentId must be a string, got number 3');
    expect(refusal(() => v.auditContext({ task: 't' }))).toBe('ctx has an unknown option "task" (known: taskId, agentId)');
  });

  it('timestamp: a Date, epoch milliseconds or an ISO-8601 string, stored as UTC with milliseconds', () => {
    expect(v.timestamp('since', new Date(Date.UTC(2026, 10, 26, 10)))).toBe('2026-11-26T10:00:00.000Z');
    expect(v.timestamp('since', 0)).toBe('1970-01-01T00:00:00.000Z');
    expect(v.timestamp('since', '2026-11-26T12:00+02:00')).toBe('2026-11-26T10:00:00.000Z');
    expect(v.timestamp('since', '2026-11-26T10:00:05.5Z')).toBe('2026-11-26T10:00:05.500Z');
    expect(v.timestamp('since', '2026-11-26T10:00:05Z')).toBe('2026-11-26T10:00:05.000Z');
    const message = (got: string): string => `since must be a Date, epoch milliseconds or an ISO-8601 timestamp, got ${got}`;
    expect(refusal(() => v.timestamp('since', '2026-11-26'))).toBe(message('"2026-11-26"'));
    expect(refusal(() => v.timestamp('since', '2026-11-26T10:00:00'))).toBe(message('"2026-11-26T10:00:00"'));
    expect(refusal(() => v.timestamp('since', 'x2026-11-26T10:00Z'))).toBe(message('"x2026-11-26T10:00Z"'));
    expect(refusal(() => v.timestamp('since', '2026-11-26T10:00Zx'))).toBe(message('"2026-11-26T10:00Zx"'));
    expect(refusal(() => v.timestamp('since', '2026-13-45T10:00Z'))).toBe(message('"2026-13-45T10:00Z"'));
    expect(refusal(() => v.timestamp('since', Number.NaN))).toBe(message('number NaN'));
    expect(refusal(() => v.timestamp('since', new Date(Number.NaN)))).toBe(message('a Date object'));
    expect(refusal(() => v.timestamp('since', null))).toBe(message('null'));
  });

  it('missing names the argument', () => {
    expect(v.missing('inputData')).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'inputData is required' });
  });
});
