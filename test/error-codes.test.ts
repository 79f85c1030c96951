import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { codeForSqlite, ERROR_CODES, fromWireError, StoreError, toStoreError, toWireError, type ErrorCode } from '../src/api/errors.js';
import { engineOf } from '../src/store.js';
import { operations } from '../src/catalogue/index.js';
import { defineOperation, type Operation } from '../src/catalogue/operation.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import { conflictOnDuplicate } from '../src/catalogue/sql.js';
import { metricsRecord } from '../src/catalogue/metrics.js';
import { ReadExecutor } from '../src/sqlite/read-executor.js';
import { WriteExecutor } from '../src/sqlite/write-executor.js';
import { freshDatabase } from './helpers/database.js';
import { openInProcessStore } from './helpers/in-process-store.js';
import { tempDbPath } from './helpers/temp.js';

// Whose fault is it? The code says: the caller's, the disk's, or the store's own
// (INTERNAL). One test per mapping.

const sqliteError = (code: string, message = 'from SQLite'): Error => Object.assign(new Error(message), { code });

describe('SQLite result codes map to the store’s codes', () => {
  const table: [string, ErrorCode][] = [
    ['SQLITE_CONSTRAINT_CHECK', 'CONSTRAINT'],
    ['SQLITE_CONSTRAINT_FOREIGNKEY', 'CONSTRAINT'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'CONSTRAINT'],
    ['SQLITE_NOTADB', 'CORRUPT'],
    ['SQLITE_CORRUPT', 'CORRUPT'],
    ['SQLITE_CORRUPT_INDEX', 'CORRUPT'],
    ['SQLITE_IOERR', 'IO_ERROR'],
    ['SQLITE_IOERR_WRITE', 'IO_ERROR'],
    ['SQLITE_IOERR_SHORT_READ', 'IO_ERROR'],
    ['SQLITE_FULL', 'IO_ERROR'],
    ['SQLITE_CANTOPEN', 'IO_ERROR'],
    ['SQLITE_CANTOPEN_ISDIR', 'IO_ERROR'],
    ['SQLITE_READONLY', 'IO_ERROR'],
    ['SQLITE_READONLY_DBMOVED', 'IO_ERROR'],
    ['SQLITE_TOOBIG', 'INVALID_ARGUMENT'],
    ['SQLITE_BUSY', 'BUSY'],
    ['SQLITE_BUSY_SNAPSHOT', 'BUSY'],
    ['SQLITE_BUSY_TIMEOUT', 'BUSY'],
    ['SQLITE_LOCKED', 'BUSY'],
    ['SQLITE_LOCKED_SHAREDCACHE', 'BUSY'],
    // Ours: a SQL mistake, a binding mistake, an API mistake, and codes nobody expected.
    ['SQLITE_ERROR', 'INTERNAL'],
    ['SQLITE_RANGE', 'INTERNAL'],
    ['SQLITE_MISUSE', 'INTERNAL'],
    ['SQLITE_SCHEMA', 'INTERNAL'],
    ['SQLITE_NOMEM', 'INTERNAL'],
    ['SQLITE_IOERRORISH', 'INTERNAL'],
    ['SQLITE_SOMETHING_NEW', 'INTERNAL'],
  ];
  it.each(table)('%s → %s, with the SQLite code and the original as cause', (sqliteCode, code) => {
    expect(codeForSqlite(sqliteCode)).toBe(code);
    const original = sqliteError(sqliteCode);
    const error = fromWireError(toWireError(original));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code, sqliteCode, message: 'from SQLite' });
    expect(error.cause).toMatchObject({ name: 'Error', message: 'from SQLite', code: sqliteCode });
  });
});

describe('the codes', () => {
  it('ERROR_CODES lists every code of the union, once', () => {
    // A Record over the union: a code added to ErrorCode and missing here fails to compile.
    const every: Record<ErrorCode, true> = {
      NOT_FOUND: true,
      CONFLICT: true,
      CONSTRAINT: true,
      INVALID_ARGUMENT: true,
      INVALID_STATE: true,
      OVERLOADED: true,
      BUSY: true,
      CLOSED: true,
      WORKER_CRASHED: true,
      OUTCOME_UNKNOWN: true,
      ABORTED: true,
      TIMEOUT: true,
      IO_ERROR: true,
      CORRUPT: true,
      INTERNAL: true,
    };
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(every).sort());
  });
});

describe('what is not a SQLite error', () => {
  it('a StoreError crosses unchanged, cause and all', () => {
    const cause = new RangeError('inner');
    const error = fromWireError(toWireError(new StoreError('CONFLICT', 'taken', { sqliteCode: 'SQLITE_CONSTRAINT_UNIQUE', cause })));
    expect(error).toMatchObject({ code: 'CONFLICT', message: 'taken', sqliteCode: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(error.cause).toMatchObject({ name: 'RangeError', message: 'inner' });
  });

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')"), 'TypeError'],
    ['a RangeError', new RangeError('Too few parameter values were provided'), 'RangeError'],
    ['a plain Error', new Error('something broke'), 'Error'],
  ])('%s is INTERNAL (our defect, not the caller’s input), with its name, stack and message as cause', (_, original, name) => {
    const error = fromWireError(toWireError(original));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe(original.message);
    expect(error.sqliteCode).toBeUndefined();
    expect(error.cause).toMatchObject({ name, message: original.message, stack: original.stack });
  });

  it('a thrown non-Error is INTERNAL', () => {
    expect(fromWireError(toWireError('a string'))).toMatchObject({ code: 'INTERNAL', message: 'a string' });
  });

  it('on the caller’s thread, the original error itself is the cause', () => {
    const original = new TypeError('oops');
    const error = toStoreError(original);
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'oops' });
    expect(error.cause).toBe(original);
    const store = new StoreError('NOT_FOUND', 'gone');
    expect(toStoreError(store)).toBe(store);
  });
});

describe('the wire form of an error', () => {
  it('carries only the fields there are: no sqliteCode, cause, stack or code key set to undefined', () => {
    expect(toWireError(new StoreError('NOT_FOUND', 'gone'))).toStrictEqual({ code: 'NOT_FOUND', message: 'gone' });
    const bare = Object.assign(new Error('no stack'), { code: 5 });
    bare.stack = undefined;
    expect(toWireError(bare)).toStrictEqual({ code: 'INTERNAL', message: 'no stack', cause: { name: 'Error', message: 'no stack' } });
    expect(toWireError(new StoreError('ABORTED', 'stopped', { cause: 'the user left' })).cause).toStrictEqual({ name: 'string', message: 'the user left' });
    const rebuilt = fromWireError({ code: 'INTERNAL', message: 'm', cause: { name: 'TypeError', message: 'm' } }).cause as Error;
    expect(rebuilt).toMatchObject({ name: 'TypeError', message: 'm' });
    expect(typeof rebuilt.stack).toBe('string');
    expect('code' in rebuilt).toBe(false);
  });

  it('takes only SQLite’s codes for SQLite’s: a Node error code stays on the cause', () => {
    const wire = toWireError(Object.assign(new Error('missing'), { code: 'ENOENT' }));
    expect(wire).toMatchObject({ code: 'INTERNAL', cause: { code: 'ENOENT' } });
    expect('sqliteCode' in wire).toBe(false);
  });

  it('a duplicate, by primary key or UNIQUE index, is CONFLICT; another constraint is not', () => {
    const failing = (code: string) => () => {
      throw Object.assign(new Error('constraint failed'), { code });
    };
    for (const code of ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']) {
      expect(() => conflictOnDuplicate('taken', failing(code))).toThrow(expect.objectContaining({ code: 'CONFLICT', message: 'taken', sqliteCode: code }) as Error);
    }
    expect(() => conflictOnDuplicate('taken', failing('SQLITE_CONSTRAINT_CHECK'))).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_CHECK' }) as Error);
    expect(conflictOnDuplicate('taken', () => 1)).toBe(1);
  });

  it('on the caller’s thread, a SQLite error keeps its code', () => {
    const db = new Database(':memory:');
    let thrown: unknown;
    try {
      db.exec('SELEC 1');
    } catch (error) {
      thrown = error;
    } finally {
      db.close();
    }
    expect(toStoreError(thrown)).toMatchObject({ code: 'INTERNAL', sqliteCode: 'SQLITE_ERROR' });
  });
});

// Operations with defects on purpose: what real defects produce, end to end.
const sqlMistake = defineOperation({
  name: 'test.sqlMistake',
  kind: 'write',
  statements: {},
  run({ db }) {
    db.exec('SELEC 1');
  },
});
const typeErrorInOurCode = defineOperation({
  name: 'test.typeError',
  kind: 'write',
  statements: {},
  run(_, [row]: readonly [{ id: number } | undefined]) {
    return row!.id;
  },
});
const bindingMistake = defineOperation({
  name: 'test.bindingMistake',
  kind: 'write',
  statements: { insert: 'INSERT INTO metrics (metric_name, metric_value) VALUES (?, ?)' },
  run({ st }) {
    st.insert.run('only one');
  },
});
const readTypeError = defineOperation({
  name: 'test.readTypeError',
  kind: 'read',
  statements: { one: 'SELECT 1 AS one' },
  run({ st }) {
    return (st.one.get() as { missing: { deeper: number } }).missing.deeper;
  },
});
const testOps = [sqlMistake, typeErrorInOurCode, bindingMistake, readTypeError] as Operation[];

describe('real defects become INTERNAL, with the cause', () => {
  it('in the writer: a SQL mistake (SQLITE_ERROR), a TypeError, a binding mistake; each fails alone', () => {
    const db = freshDatabase();
    const executor = new WriteExecutor(new PreparedCatalogue(db, [...operations, ...testOps], ['write']));
    const outcomes = executor.execute([
      ['test.sqlMistake', []],
      ['test.typeError', [undefined]],
      ['test.bindingMistake', []],
      ['metrics.record', ['fine', 1, null, undefined]],
      ['no.such.operation', []],
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'INTERNAL', sqliteCode: 'SQLITE_ERROR', cause: { code: 'SQLITE_ERROR' } } });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'INTERNAL', cause: { name: 'TypeError' } } });
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: 'INTERNAL', cause: { name: 'RangeError' } } });
    expect(outcomes[3]).toMatchObject({ ok: true });
    expect(outcomes[4]).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringContaining('unknown operation') } });
    expect(db.prepare("SELECT count(*) FROM metrics WHERE metric_name = 'fine'").pluck().get()).toBe(1);
  });

  it('in a reader: a TypeError is INTERNAL, the next read is served', () => {
    const db = freshDatabase();
    const executor = new ReadExecutor(new PreparedCatalogue(db, testOps, ['read']));
    const outcomes = executor.run([
      ['test.readTypeError', []],
      ['test.sqlMistake', []],
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'INTERNAL', cause: { name: 'TypeError' } } });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('on the caller’s thread: a defect while assembling arguments rejects INTERNAL, nothing queued', async () => {
    const store = await openInProcessStore();
    const original = new TypeError('a bug in argument assembly');
    const error = await engineOf(store)
      .call(metricsRecord, () => {
        throw original;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'a bug in argument assembly' });
    expect((error as StoreError).cause).toBe(original);
    expect(store.stats().queues.write).toBe(0);
  });

  it('the caller’s bad input stays INVALID_ARGUMENT: it is not mistaken for a defect', async () => {
    const store = await openInProcessStore();
    await expect(store.metrics.record('x', -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.memory.get('user::x', 'k')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('real SQLite conditions', () => {
  it('a lock held past busy_timeout (SQLITE_BUSY) is BUSY', () => {
    const path = tempDbPath();
    const holder = freshDatabase(path);
    holder.prepare('BEGIN IMMEDIATE').run();
    const other = new Database(path, { timeout: 0 });
    try {
      const error = fromWireError(toWireError(captured(() => other.prepare('BEGIN IMMEDIATE').run())));
      expect(error).toMatchObject({ code: 'BUSY', sqliteCode: 'SQLITE_BUSY' });
    } finally {
      other.close();
      holder.prepare('ROLLBACK').run();
    }
  });

  it('through the store: writes queued behind another process’s lock all fail BUSY, nothing written, and a retry succeeds', async () => {
    const path = tempDbPath();
    const store = await openInProcessStore({ path, busyTimeoutMs: 20 });
    await store.metrics.record('before', 1);
    const other = new Database(path);
    other.prepare('BEGIN IMMEDIATE').run();
    let settled: PromiseSettledResult<unknown>[];
    try {
      settled = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => store.metrics.record(`m${n}`, n)));
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as StoreError).code : 'ok'))).toEqual(Array.from({ length: 20 }, () => 'BUSY'));
    expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ sqliteCode: 'SQLITE_BUSY', message: expect.stringContaining('nothing was written, retry') });
    await store.metrics.record('after', 2);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT metric_name FROM metrics ORDER BY id').pluck().all()).toEqual(['before', 'after']);
    } finally {
      db.close();
    }
  });

  it('a constraint the row breaks (SQLITE_CONSTRAINT_CHECK) is CONSTRAINT', () => {
    const db = freshDatabase();
    const error = fromWireError(toWireError(captured(() => db.prepare("INSERT INTO metrics (metric_name, metric_value) VALUES ('x', -1)").run())));
    expect(error).toMatchObject({ code: 'CONSTRAINT', sqliteCode: 'SQLITE_CONSTRAINT_CHECK' });
  });

  it('a write on a read-only connection (SQLITE_READONLY) is IO_ERROR', () => {
    const path = tempDbPath();
    freshDatabase(path);
    const reader = new Database(path, { readonly: true });
    try {
      const error = fromWireError(toWireError(captured(() => reader.prepare("INSERT INTO metrics (metric_name, metric_value) VALUES ('x', 1)").run())));
      expect(error).toMatchObject({ code: 'IO_ERROR', sqliteCode: 'SQLITE_READONLY' });
    } finally {
      reader.close();
    }
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
