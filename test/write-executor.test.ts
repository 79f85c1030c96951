import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { defineOperation, type Operation } from '../src/catalogue/operation.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import type { OperationCall, Outcome } from '../src/sqlite/protocol.js';
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

/** Runs of each operation below, by name: a replay runs an operation again. */
const runs = new Map<string, number>();
const counted = (name: string): number => {
  const n = (runs.get(name) ?? 0) + 1;
  runs.set(name, n);
  return n;
};

/**
 * Makes its row's id in JavaScript, as services do for sessions and tasks: a run that was
 * rolled back and run again returns a different id, so a caller handed the first run's
 * value would hold an id that was never committed.
 */
const insertWithJsId = defineOperation({
  name: 'test.insertWithJsId',
  kind: 'write',
  statements: { insert: 'INSERT INTO metrics (metric_name, metric_value) VALUES (?, 1)' },
  run({ st }) {
    counted('test.insertWithJsId');
    const id = randomUUID();
    st.insert.run(id);
    return id;
  },
});

/** Succeeds the first time it runs, fails every time after: a replay finds a new failure. */
const failsWhenRunAgain = defineOperation({
  name: 'test.failsWhenRunAgain',
  kind: 'write',
  statements: { insert: "INSERT INTO metrics (metric_name, metric_value) VALUES ('again', 1)" },
  run({ st }) {
    st.insert.run();
    if (counted('test.failsWhenRunAgain') > 1) throw new Error('failed on its second run');
  },
});

/** Undoes its own savepoint, so the executor's ROLLBACK TO cannot: the batch goes down whole. */
const releaseThenThrow = defineOperation({
  name: 'test.releaseThenThrow',
  kind: 'write',
  statements: { release: 'RELEASE operation' },
  run({ st }) {
    st.release.run();
    throw new Error('failed after its savepoint was gone');
  },
});

const testOps = [insertMetric, insertThenThrow, abortTransaction, danglingAtCommit, releaseThenThrow, insertWithJsId, failsWhenRunAgain] as Operation[];

function executor(db: Connection): WriteExecutor {
  return new WriteExecutor(new PreparedCatalogue(db, [...operations, ...testOps], ['write']));
}

const count = (db: Connection, where = '1'): number =>
  db.prepare(`SELECT count(*) FROM metrics WHERE ${where}`).pluck().get() as number;

const codes = (outcomes: Outcome[]): (string | true)[] => outcomes.map((o) => (o.ok ? true : o.error.code));

/** Counts the runs of one statement the executor prepares (call before constructing it). */
function countRuns(db: Connection, sql: string): () => number {
  let runs = 0;
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (source === sql) {
      const run = statement.run.bind(statement);
      statement.run = (...params: unknown[]) => {
        runs++;
        return run(...params);
      };
    }
    return statement;
  }) as typeof db.prepare;
  return () => runs;
}

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
    expect(outcomes[1]).toMatchObject({ error: { message: 'unknown operation "no.such.operation" for this connection' } });
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

  it('rolls the whole transaction back when a failed operation’s savepoint cannot be undone alone', () => {
    const db = freshDatabase();
    const outcomes = executor(db).execute([
      ['test.insertMetric', ['a', 1]],
      ['test.releaseThenThrow', []],
      ['test.insertMetric', ['b', 2]],
    ]);
    expect(codes(outcomes)).toEqual(['INTERNAL', 'INTERNAL', true]);
    expect(outcomes[0]).toMatchObject({ error: { message: 'rolled back with its batch: failed after its savepoint was gone' } });
    expect(db.prepare('SELECT metric_name FROM metrics').pluck().all()).toEqual(['b']);
    expect(db.inTransaction).toBe(false);
  });

  it('fails the whole batch BUSY after one BEGIN when another connection holds the write lock past busy_timeout; nothing is written', () => {
    const db = freshDatabase();
    db.pragma('busy_timeout = 20');
    const begins = countRuns(db, 'BEGIN IMMEDIATE');
    const other = new Database(db.name);
    other.prepare('BEGIN IMMEDIATE').run();
    const run = executor(db);
    try {
      const outcomes = run.execute(Array.from({ length: 20 }, (_, n): OperationCall => ['test.insertMetric', [`m${n}`, n]]));
      // One BEGIN waited busy_timeout once, and its failure failed every call: a BEGIN per
      // call would wait 20 times as long, and with the default 5 s and batches of 512, the
      // batch would stall for most of an hour.
      expect(begins()).toBe(1);
      expect(codes(outcomes)).toEqual(Array.from({ length: 20 }, () => 'BUSY'));
      expect(outcomes[19]).toMatchObject({
        error: { sqliteCode: 'SQLITE_BUSY', message: expect.stringMatching(/another connection held the write lock past busyTimeoutMs; nothing was written, retry/) },
      });
      expect(db.inTransaction).toBe(false);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    expect(count(db)).toBe(0);
    // Once the lock is free the next batch commits.
    expect(codes(run.execute([['test.insertMetric', ['after', 1]]]))).toEqual([true]);
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

describe('group commit without savepoints, replayed on failure', () => {
  it('replays a batch whose optimistic run failed: the others commit once, with the values of the run that committed', () => {
    const db = freshDatabase();
    const writer = executor(db);
    runs.clear();
    const outcomes = writer.execute([
      ['test.insertWithJsId', []],
      ['test.insertWithJsId', []],
      ['test.insertThenThrow', []],
      ['test.insertWithJsId', []],
      ['test.insertWithJsId', []],
    ]);
    expect(codes(outcomes)).toEqual([true, true, 'INTERNAL', true, true]);
    // The batch ran twice: the two operations before the failure ran in both runs.
    expect(writer.replays).toBe(1);
    expect(runs.get('test.insertWithJsId')).toBe(6);
    // Each committed exactly once, and each caller holds the id that was committed.
    const committed = db.prepare('SELECT metric_name FROM metrics ORDER BY id').pluck().all();
    expect(committed).toEqual(outcomes.filter((o) => o.ok).map((o) => (o as { value: unknown }).value));
    expect(count(db, "metric_name = 'half-done'")).toBe(0);
    expect(db.inTransaction).toBe(false);
  });

  it('guards every operation when the replay finds another failure, and starts the next batch guarded', () => {
    const db = freshDatabase();
    const writer = executor(db);
    runs.clear();
    const outcomes = writer.execute([
      ['test.failsWhenRunAgain', []],
      ['test.insertThenThrow', []],
      ['test.insertMetric', ['kept', 1]],
    ]);
    // First run: 1 fails. Replay with 1 guarded: 0 fails now. Third run: all guarded.
    expect(codes(outcomes)).toEqual(['INTERNAL', 'INTERNAL', true]);
    expect(writer.replays).toBe(2);
    expect(db.prepare('SELECT metric_name FROM metrics').pluck().all()).toEqual(['kept']);
    // Two failures in one batch: the next batch starts with every operation guarded, so its
    // one failure needs no replay; having seen only one, the batch after is optimistic again.
    const guarded = writer.execute([
      ['test.insertThenThrow', []],
      ['test.insertMetric', ['second', 2]],
    ]);
    expect(codes(guarded)).toEqual(['INTERNAL', true]);
    expect(writer.replays).toBe(2);
    const optimistic = writer.execute([
      ['test.insertThenThrow', []],
      ['test.insertMetric', ['third', 3]],
    ]);
    expect(codes(optimistic)).toEqual(['INTERNAL', true]);
    expect(writer.replays).toBe(3);
    expect(db.prepare('SELECT metric_name FROM metrics ORDER BY id').pluck().all()).toEqual(['kept', 'second', 'third']);
  });

  it('runs a batch without failures once', () => {
    const db = freshDatabase();
    const writer = executor(db);
    runs.clear();
    const outcomes = writer.execute([
      ['test.insertWithJsId', []],
      ['metrics.record', ['m', 1, null, undefined]],
      ['test.insertWithJsId', []],
    ]);
    expect(codes(outcomes)).toEqual([true, true, true]);
    expect(writer.replays).toBe(0);
    expect(runs.get('test.insertWithJsId')).toBe(2);
    expect(count(db)).toBe(3);
  });
});
