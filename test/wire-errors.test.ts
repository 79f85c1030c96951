import { describe, expect, it } from 'vitest';
import { fromWireError, invalidArgument, StoreError, toWireError } from '../src/api/errors.js';

// Errors cross threads as data and are rebuilt on the caller's side: the code, the
// message and SQLite's extended code must survive the trip.

const sqliteError = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });

describe('errors across threads', () => {
  it('maps SQLite extended codes to the store’s codes, keeping the SQLite code', () => {
    const cases: [string, string][] = [
      ['SQLITE_CONSTRAINT_FOREIGNKEY', 'CONSTRAINT'],
      ['SQLITE_CONSTRAINT_CHECK', 'CONSTRAINT'],
      ['SQLITE_NOTADB', 'CORRUPT'],
      ['SQLITE_CORRUPT_INDEX', 'CORRUPT'],
      ['SQLITE_TOOBIG', 'INVALID_ARGUMENT'],
      ['SQLITE_RANGE', 'INVALID_ARGUMENT'],
      ['SQLITE_BUSY_SNAPSHOT', 'INVALID_STATE'],
      ['SQLITE_LOCKED', 'INVALID_STATE'],
      ['SQLITE_IOERR_WRITE', 'IO_ERROR'],
      ['SQLITE_FULL', 'IO_ERROR'],
    ];
    for (const [sqliteCode, code] of cases) {
      expect(toWireError(sqliteError(sqliteCode, `failed: ${sqliteCode}`))).toStrictEqual({ code, message: `failed: ${sqliteCode}`, sqliteCode });
    }
  });

  it('keeps a StoreError’s code and SQLite code, and adds none it did not have', () => {
    expect(toWireError(new StoreError('NOT_FOUND', 'no such task'))).toStrictEqual({ code: 'NOT_FOUND', message: 'no such task' });
    expect(toWireError(new StoreError('CONFLICT', 'dup', { sqliteCode: 'SQLITE_CONSTRAINT_UNIQUE' }))).toStrictEqual({
      code: 'CONFLICT',
      message: 'dup',
      sqliteCode: 'SQLITE_CONSTRAINT_UNIQUE',
    });
  });

  it('maps other errors: type and range errors are bad arguments, anything else a bad state', () => {
    expect(toWireError(new TypeError('not a function'))).toStrictEqual({ code: 'INVALID_ARGUMENT', message: 'not a function' });
    expect(toWireError(new RangeError('too many'))).toStrictEqual({ code: 'INVALID_ARGUMENT', message: 'too many' });
    expect(toWireError(new Error('odd'))).toStrictEqual({ code: 'INVALID_STATE', message: 'odd' });
    expect(toWireError(sqliteError('ERR_SOMETHING', 'not sqlite'))).toStrictEqual({ code: 'INVALID_STATE', message: 'not sqlite' });
    expect(toWireError(Object.assign(new Error('numeric'), { code: 5 }))).toStrictEqual({ code: 'INVALID_STATE', message: 'numeric' });
    expect(toWireError('a string')).toStrictEqual({ code: 'INVALID_STATE', message: 'a string' });
  });

  it('rebuilds a StoreError from the wire, through a structured clone', () => {
    const rebuilt = fromWireError(structuredClone(toWireError(sqliteError('SQLITE_CONSTRAINT_CHECK', 'CHECK failed'))));
    expect(rebuilt).toBeInstanceOf(StoreError);
    expect(rebuilt).toBeInstanceOf(Error);
    expect(rebuilt.name).toBe('StoreError');
    expect(rebuilt.code).toBe('CONSTRAINT');
    expect(rebuilt.message).toBe('CHECK failed');
    expect(rebuilt.sqliteCode).toBe('SQLITE_CONSTRAINT_CHECK');
    const plain = fromWireError({ code: 'NOT_FOUND', message: 'gone' });
    expect(plain.sqliteCode).toBeUndefined();
    expect(plain.cause).toBeUndefined();
  });

  it('keeps the cause it is given, and none otherwise', () => {
    const cause = new Error('root');
    expect(new StoreError('IO_ERROR', 'x', { cause }).cause).toBe(cause);
    expect('cause' in new StoreError('IO_ERROR', 'x')).toBe(false);
    expect(new StoreError('IO_ERROR', 'x', { sqliteCode: 'SQLITE_FULL' })).toMatchObject({ sqliteCode: 'SQLITE_FULL' });
    expect(invalidArgument('bad limit')).toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT', message: 'bad limit' });
  });
});
