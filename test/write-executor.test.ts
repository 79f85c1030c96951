import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { defineOperation, type Operation } from '../src/catalogue/operation.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import type { Outcome } from '../src/sqlite/protocol.js';
import { WriteExecutor } from '../src/sqlite/write-executor.js';
import { freshDatabase } from './helpers/database.js';

// Test-only operations, to drive the executor's failure paths directly.
const insertMetric = defineOperation({
  name: 'test.insertMetric',
  kind: 'write',
  statements: { insert: 'INSERT INTO metrics (metric_name, metric_value) VALUES (?, ?)' },
  run({ st }, [name, value]: readonly [string, number]) {
    st.insert.run(name, value);
    return name;
  },
});

/** Writes a row, then fails: the row must not survive. */
const insertThenThrow = defineOperation({
  name: 'test.insertThenThrow',
  kind: 'write',
  statements: { insert: "INSERT INTO metrics (metric_name, metric_value) VALUES ('half-done', 1)" },
  run({ st }) {
    st.insert.run();
    throw new Error('failed after writing');
  },
});

/** Ends the transaction itself, as SQLite does on disk-full or I/O errors, then fails. */
const abortTransaction = defineOperation({
  name: 'test.abortTransaction',
  kind: 'write',
  statements: { rollback: 'ROLLBACK' },
  run({ st }) {
    st.rollback.run();
    throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  },
});

/** Makes the COMMIT fail: a deferred foreign key left dangling. */
const danglingAtCommit = defineOperation({
  name: 'test.danglingAtCommit',
  kind: 'write',
  statements: {
    defer: 'PRAGMA defer_foreign_keys = ON',
    insert: "INSERT INTO checkpoints (task_id, iteration, state) VALUES ('no-such-task', 1, '{}')",
  },
  run({ st }) {
    st.defer.run();
    st.insert.run();
  },
});

const testOps = [insertMetric, insertThenThrow, abortTransaction, danglingAtCommit] as Operation[];

function executor(db: Connection): WriteExecutor {
  return new WriteExecutor(new PreparedCatalogue(db, [...operations, ...testOps], ['write']));
}

const count = (db: Connection, where = '1'): number =>
  db.prepare(`SELECT count(*) FROM metrics WHERE ${where}`).pluck().get() as number;

const codes = (outcomes: Outcome[]): (string | true)[] => outcomes.map((o) => (o.ok ? true : o.error.code));

describe('group commit', () => {
  it('commits a batch of writes in one transaction', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['test.insertMetric', ['a', 1]],
      ['test.insertMetric', ['b', 2]],
      ['test.insertMetric', ['c', 3]],
    ]);
    expect(outcomes).toEqual([
      { ok: true, value: 'a' },
      { ok: true, value: 'b' },
      { ok: true, value: 'c' },
    ]);
    expect(count(db)).toBe(3);
    expect(db.inTransaction).toBe(false);
  });

  it('rolls a failing operation back alone; the others commit', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['test.insertMetric', ['a', 1]],
      ['test.insertMetric', ['negative', -1]],
      ['test.insertThenThrow', []],
      ['test.insertMetric', ['b', 2]],
    ]);
    expect(codes(outcomes)).toEqual([true, 'CONSTRAINT', 'INTERNAL', true]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { sqliteCode: 'SQLITE_CONSTRAINT_CHECK' } });
    expect(count(db)).toBe(2);
    expect(count(db, "metric_name = 'half-done'")).toBe(0);
  });

  it('rolls back a real operation’s audit row with it when the operation fails', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['sessions.create', ['s1', 'app', 'alice', null, '{}', '{}', undefined]],
      ['sessions.create', ['s2', 'app', 'bob', null, '{}', '{}', { taskId: 'no-such-task' }]],
    ]);
    expect(codes(outcomes)).toEqual([true, 'CONSTRAINT']);
    expect(outcomes[1]).toMatchObject({ error: { sqliteCode: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
    expect(db.prepare('SELECT id FROM sessions').pluck().all()).toEqual(['s1']);
    expect(db.prepare('SELECT count(*) FROM audit').pluck().get()).toBe(1);
  });

  it('fails an unknown operation alone', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['test.insertMetric', ['a', 1]],
      ['no.such.operation', []],
    ]);
    expect(codes(outcomes)).toEqual([true, 'INTERNAL']);
    expect(count(db)).toBe(1);
  });

  it('fails every earlier success when SQLite ends the transaction, and carries on after', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['test.insertMetric', ['a', 1]],
      ['test.insertMetric', ['b', 2]],
      ['test.abortTransaction', []],
      ['test.insertMetric', ['c', 3]],
    ]);
    expect(codes(outcomes)).toEqual(['IO_ERROR', 'IO_ERROR', 'IO_ERROR', true]);
    expect(outcomes[0]).toMatchObject({ error: { message: expect.stringContaining('rolled back with its batch') } });
    expect(db.prepare('SELECT metric_name FROM metrics').pluck().all()).toEqual(['c']);
  });

  it('fails the whole batch when the COMMIT fails', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['test.insertMetric', ['a', 1]],
      ['test.danglingAtCommit', []],
    ]);
    expect(codes(outcomes)).toEqual(['CONSTRAINT', 'CONSTRAINT']);
    expect(outcomes[0]).toMatchObject({ error: { sqliteCode: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
    expect(count(db)).toBe(0);
    expect(db.inTransaction).toBe(false);
    // The connection is fine afterwards.
    expect(codes(executor(db).execute([['test.insertMetric', ['d', 4]]]))).toEqual([true]);
  });
});
