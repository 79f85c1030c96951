import { describe, expect, it } from 'vitest';
import { STORED_SESSION_WIRE, type StoredSession } from '../src/catalogue/session-events.js';
import { openReaderConnection } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { defineOperation, pluck, type Operation } from '../src/catalogue/operation.js';
import { PreparedCatalogue } from '../src/catalogue/prepared.js';
import { ReadExecutor } from '../src/sqlite/read-executor.js';
import { appendCall, encodeOutcomes, PAGE_BYTES, rowsPerPage, wholeAnswer, type OperationCall, type Outcome, type ReadBatchRequest } from '../src/sqlite/protocol.js';
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
    // A session read goes packed (the caller's ReadPool unpacks it); a missing one as undefined.
    expect(outcomes[0]).toMatchObject({ ok: true, value: expect.any(Array) });
    const value = STORED_SESSION_WIRE.unpack((outcomes[0] as { value: unknown[] }).value);
    expect(value).toMatchObject({ session: { id: 's1', userId: 'alice' }, first: 1, before: [], held: 0, after: [] });
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
  const response = wholeAnswer(handler.run(request));
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
    const [read, state] = runHandler(handler, [['sessions.get', ['s1', null, null]], ['sessions.getState', ['s1', 'k']]]);
    expect(STORED_SESSION_WIRE.unpack((read as { value: unknown[] }).value)).toMatchObject({ session: { id: 's1' } });
    expect(state).toEqual({ ok: true, value: undefined });
  });

  it('sends a session read with more events than a page holds as its answer and then its pages, which make the same session again', () => {
    const { writer } = setup();
    const event = writer.prepare("INSERT INTO session_events (session_id, seq, event) VALUES ('s1', ?, ?)");
    // About 1 KB each: 600 of them are more than two pages.
    const count = 600;
    const texts = Array.from({ length: count }, (_, i) => JSON.stringify({ seq: i + 1, text: 'x'.repeat(1000) }));
    for (const [i, text] of texts.entries()) event.run(i + 1, text);
    writer.prepare("UPDATE sessions SET event_count = ? WHERE id = 's1'").run(count);
    const handler = openReadHandler({ path: writer.name, busyTimeoutMs: 100 });
    const request: ReadBatchRequest = [];
    appendCall(request, 'sessions.get', ['s1', null, null]);
    appendCall(request, 'sessions.get', ['s1', 3, null]);
    const messages = handler.run(request);
    // The long one (packed: its fields, then its event texts) in pages of about PAGE_BYTES; the one with its last 3 events whole.
    const lengths = messages.map((m) => m.length);
    const packed = wholeAnswer(messages)[1] as unknown[];
    const perPage = rowsPerPage(packed, PAGE_BYTES);
    expect(perPage).toBeGreaterThan(0);
    expect(lengths).toEqual([5, perPage, perPage, packed.length - 2 * perPage]);
    const answer = wholeAnswer(handler.run(request));
    const [whole, lastThree] = [STORED_SESSION_WIRE.unpack(packed), STORED_SESSION_WIRE.unpack(answer[3] as unknown[])];
    const seqs = (read: StoredSession): number[] => read.before.map((text) => (JSON.parse(text) as { seq: number }).seq);
    expect(whole.session.id).toBe('s1');
    expect(whole.first).toBe(1);
    expect(whole.before).toEqual(texts);
    expect(lastThree.first).toBe(count - 2);
    expect(seqs(lastThree)).toEqual([count - 2, count - 1, count]);
  });
});

describe('answers in pages', () => {
  // Each row is about 13 bytes: keys 'tag' and 'i', a one-letter tag, a number.
  const rows = (n: number, tag = 'r') => Array.from({ length: n }, (_, i) => ({ tag, i }));

  it('sizes pages by bytes, from a sample of rows, and leaves short arrays alone', () => {
    expect(rowsPerPage(rows(40), 130)).toBe(10);
    expect(rowsPerPage(rows(40), 10_000)).toBe(0);
    expect(rowsPerPage(rows(31), 13)).toBe(0);
    expect(rowsPerPage([...rows(39), { tag: 'x'.repeat(100_000), i: 0 }], 130)).toBe(10);
  });

  it('leaves answers without a long array whole, in one message', () => {
    const error = { name: 'StoreError', code: 'NOT_FOUND', message: 'no' } as WireError;
    const outcomes: Outcome[] = [
      { ok: true, value: { id: 'x', events: rows(40) } },
      { ok: true, value: rows(40) },
      { ok: true, value: undefined },
      { ok: false, error },
    ];
    const messages = encodeOutcomes(outcomes, 10_000);
    expect(messages).toHaveLength(1);
    expect(wholeAnswer(messages)).toEqual([1, { id: 'x', events: rows(40) }, 1, rows(40), 1, undefined, 0, error]);
  });

  it('pages an array answer and every long array property of an object, and puts them back in order, keys in place', () => {
    const value = { id: 'x', session: rows(40, 's'), small: rows(2), user: rows(90, 'u'), typed: new Float32Array(20) };
    const messages = encodeOutcomes([{ ok: true, value }, { ok: true, value: 7 }, { ok: true, value: rows(80, 'a') }], 130);
    // Pages of 10 rows: session 4, user 9, the array answer 8; the response's last element counts them.
    expect(messages.map((m) => m.length)).toEqual([7, ...Array<number>(21).fill(10)]);
    expect(messages[0]!.at(-1)).toBe(21);
    const answer = wholeAnswer(messages);
    expect(answer).toEqual([1, value, 1, 7, 1, rows(80, 'a')]);
    expect(Object.keys(answer[1] as object)).toEqual(['id', 'session', 'small', 'user', 'typed']);
    // The reader's own value is not changed by paging it.
    expect(value.session).toHaveLength(40);
  });
});
