import { describe, expect, it } from 'vitest';
import { openReaderConnection } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { defineOperation, pluck, type Operation } from '../src/catalogue/operation.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import { ReadExecutor } from '../src/sqlite/read-executor.js';
import { appendCall, type OperationCall, type Outcome, type ReadBatchRequest } from '../src/sqlite/protocol.js';
import type { WireError } from '../src/api/errors.js';
import { openReadHandler, type ReadHandler } from '../src/sqlite/reader-thread.js';
import { freshDatabase } from './helpers/database.js';
import { tempDbPath } from './helpers/temp.js';

const countSessions = defineOperation({
  name: 'test.countSessions',
  kind: 'read',
  statements: { count: pluck('SELECT count(*) FROM sessions') },
  run: ({ st }) => st.count.get() as number,
});

/** Reports whether it ran inside a transaction (VACUUM INTO and friends must not). */
const outsideTransaction = defineOperation({
  name: 'test.outsideTransaction',
  kind: 'read',
  transactional: false,
  statements: {},
  run: ({ db }) => db.inTransaction,
});

function setup() {
  const writer = freshDatabase();
  const insert = writer.prepare("INSERT INTO sessions (id, app_name, user_id) VALUES (?, 'app', 'alice')");
  insert.run('s1');
  const reader = openReaderConnection(writer.name, 1000);
  const executor = new ReadExecutor(
    new PreparedCatalogue(reader, [...operations, countSessions, outsideTransaction] as Operation[], ['read']),
  );
  return { writer, reader, insert, executor };
}

describe('read executor', () => {
  it('runs a batch and answers each call in order', () => {
    const { executor } = setup();
    const outcomes = executor.run([
      ['sessions.get', ['s1', null, null]],
      ['sessions.get', ['missing', null, null]],
      ['test.countSessions', []],
    ]);
    expect(outcomes[0]).toMatchObject({ ok: true, value: { session: { id: 's1', userId: 'alice' }, first: 1, before: [], held: 0, after: [] } });
    expect(outcomes[1]).toEqual({ ok: true, value: undefined });
    expect(outcomes[2]).toEqual({ ok: true, value: 1 });
  });

  it('fails a bad call alone (a write sent to a reader is the store’s defect: INTERNAL)', () => {
    const { executor } = setup();
    const outcomes = executor.run([
      ['sessions.create', []],
      ['test.countSessions', []],
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(outcomes[1]).toEqual({ ok: true, value: 1 });
  });

  it('runs the batch in one snapshot, and sees commits made before the next batch', () => {
    const { executor, insert, reader } = setup();
    let during = -1;
    const peek = defineOperation({
      name: 'test.writeDuring',
      kind: 'read',
      statements: {},
      run: () => {
        insert.run('s2');
        during = 0;
      },
    });
    const withPeek = new ReadExecutor(
      new PreparedCatalogue(reader, [countSessions, peek] as Operation[], ['read']),
    );
    const outcomes = withPeek.run([
      ['test.countSessions', []],
      ['test.writeDuring', []],
      ['test.countSessions', []],
    ]);
    expect(during).toBe(0);
    expect(outcomes.map((o) => (o.ok ? o.value : o.error.code))).toEqual([1, undefined, 1]);
    expect(executor.run([['test.countSessions', []]])).toEqual([{ ok: true, value: 2 }]);
    expect(reader.inTransaction).toBe(false);
  });

  it('runs non-transactional operations outside the batch transaction', () => {
    const { executor, reader } = setup();
    const outcomes = executor.run([
      ['test.countSessions', []],
      ['test.outsideTransaction', []],
      ['test.countSessions', []],
    ]);
    expect(outcomes.map((o) => o.ok && o.value)).toEqual([1, false, 1]);
    expect(reader.inTransaction).toBe(false);
  });
});

/** Runs calls through a handler the way the pool does: encoded, then decoded. */
function runHandler(handler: ReadHandler, calls: OperationCall[]) {
  const request: ReadBatchRequest = [];
  for (const [name, args] of calls) appendCall(request, name, args);
  const response = handler.run(request);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < response.length; i += 2) {
    outcomes.push(response[i] === 1 ? { ok: true, value: response[i + 1] } : { ok: false, error: response[i + 1] as WireError });
  }
  return outcomes;
}

describe('reader handler', () => {
  it('throws the open error, naming the file, when it cannot open the database', () => {
    const path = tempDbPath('absent.db');
    expect(() => openReadHandler({ path, busyTimeoutMs: 100 })).toThrow(
      expect.objectContaining({ name: 'StoreError', code: 'IO_ERROR', message: expect.stringContaining(path) }),
    );
  });

  it('serves reads from a database the writer set up', () => {
    const { writer } = setup();
    const handler = openReadHandler({ path: writer.name, busyTimeoutMs: 100 });
    expect(runHandler(handler, [['sessions.get', ['s1', null, null]], ['sessions.getState', ['s1', 'k']]])).toEqual([
      { ok: true, value: expect.objectContaining({ session: expect.objectContaining({ id: 's1' }) }) },
      { ok: true, value: undefined },
    ]);
  });
});
