import { EventEmitter, getEventListeners } from 'node:events';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/api/errors.js';
import { openStore } from '../src/store.js';
import { memoryGet, memoryUpdate } from '../src/catalogue/memory.js';
import { startPostgres } from '../bench/postgres-server.js';
import { execute } from '../src/postgres/executor.js';
import { implement, RetryTransaction } from '../src/postgres/operation.js';
import { freshPostgresUrl, openPostgresTestStore, pgClient, urlOf } from './helpers/postgres.js';
import { settleAll } from './helpers/store.js';
import { cleanup } from './helpers/temp.js';

/** A pool whose one connection answers each statement from a script: a value, or an error to throw. */
function scriptedPool(answer: (sql: string) => unknown) {
  const log: string[] = [];
  const released: unknown[] = [];
  const client = Object.assign(new EventEmitter(), {
    query: async (config: string | { text: string }) => {
      const sql = typeof config === 'string' ? config : config.text;
      log.push(sql);
      const result = answer(sql);
      if (result instanceof Error) throw result;
      return result ?? { command: sql.split(' ')[0], rows: [['row']] };
    },
    release: (error?: unknown) => released.push(error),
  });
  return { pool: { connect: async () => client } as unknown as Pool, log, released };
}

const lost = (): Error => new Error('Connection terminated unexpectedly');
const sqlError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

/** A write that runs one statement; the catalogue operation only gives it a name and a kind. */
const write = implement(memoryUpdate, {
  statements: { one: 'UPDATE x SET y = 1' },
  async run(q) {
    await q.all('one');
    return undefined as never;
  },
});

describe('a call’s transaction on PostgreSQL', () => {
  it('reports a connection lost while COMMIT was in flight as OUTCOME_UNKNOWN, and destroys the connection', async () => {
    const { pool, released } = scriptedPool((sql) => (sql === 'COMMIT' ? lost() : undefined));
    await expect(execute(pool, write, [])).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN', message: expect.stringContaining('may or may not have committed') });
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
  });

  it('reports a connection lost before COMMIT as IO_ERROR (the server rolled back), without trying a ROLLBACK on it', async () => {
    const { pool, log, released } = scriptedPool((sql) => (sql.startsWith('UPDATE') ? lost() : undefined));
    await expect(execute(pool, write, [])).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('nothing was written') });
    expect(log).toEqual(['BEGIN', 'UPDATE x SET y = 1']);
    expect(released[0]).toBeInstanceOf(Error);
  });

  it('rolls back a failed statement, keeps the connection, and maps the SQLSTATE', async () => {
    const { pool, log, released } = scriptedPool((sql) => (sql.startsWith('UPDATE') ? sqlError('23503', 'violates foreign key') : undefined));
    await expect(execute(pool, write, [])).rejects.toMatchObject({ code: 'CONSTRAINT', pgCode: '23503' });
    expect(log).toEqual(['BEGIN', 'UPDATE x SET y = 1', 'ROLLBACK']);
    expect(released).toEqual([undefined]);
  });

  it('does not take a COMMIT that rolled back for a success', async () => {
    const { pool } = scriptedPool((sql) => (sql === 'COMMIT' ? { command: 'ROLLBACK', rows: [] } : undefined));
    await expect(execute(pool, write, [])).rejects.toMatchObject({ message: expect.stringContaining('COMMIT answered ROLLBACK') });
  });

  it('a lock wait past lock_timeout (55P03) is BUSY: rolled back, nothing written, retry', async () => {
    const { pool, log } = scriptedPool((sql) => (sql.startsWith('UPDATE') ? sqlError('55P03', 'canceling statement due to lock timeout') : undefined));
    await expect(execute(pool, write, [])).rejects.toMatchObject({ code: 'BUSY', pgCode: '55P03', message: expect.stringContaining('nothing was written, retry') });
    expect(log).toEqual(['BEGIN', 'UPDATE x SET y = 1', 'ROLLBACK']);
  });

  it('a deadlock or serialization failure that persists past the retries is BUSY, not CONFLICT: nothing was written', async () => {
    for (const sqlstate of ['40P01', '40001']) {
      const { pool, log } = scriptedPool((sql) => (sql.startsWith('UPDATE') ? sqlError(sqlstate, 'lost again') : undefined));
      await expect(execute(pool, write, [])).rejects.toMatchObject({ code: 'BUSY', pgCode: sqlstate, message: expect.stringContaining('nothing was written, retry') });
      expect(log.filter((sql) => sql === 'BEGIN')).toHaveLength(8);
    }
  });

  it('a statement the server cancelled (57014, statement_timeout) is TIMEOUT: it ran, rolled back, nothing written', async () => {
    const { pool } = scriptedPool((sql) => (sql.startsWith('UPDATE') ? sqlError('57014', 'canceling statement due to statement timeout') : undefined));
    const error = (await execute(pool, write, []).catch((e: unknown) => e)) as StoreError;
    expect(error).toMatchObject({ code: 'TIMEOUT', pgCode: '57014' });
    expect(error.message).toMatch(/statementTimeoutMs.*nothing was written/);
    const read = implement(memoryGet, {
      statements: { one: 'SELECT 1' },
      async run(q) {
        await q.all('one');
        return undefined;
      },
    });
    const reading = scriptedPool((sql) => (sql === 'SELECT 1' ? sqlError('57014', 'canceling statement due to statement timeout') : undefined));
    await expect(execute(reading.pool, read, [])).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('nothing was read') });
  });

  it('a pool with no connection free within connectionTimeoutMs: OVERLOADED, known by its own timer; a connection that comes later goes straight back', async () => {
    let handOut: (client: unknown) => void = () => {};
    const released: unknown[] = [];
    const late = { release: (error?: unknown) => released.push(error ?? 'released'), on() {}, off() {} };
    const pool = { connect: () => new Promise((resolve) => (handOut = resolve)) } as unknown as Pool;
    await expect(execute(pool, write, [], { connectionTimeoutMs: 20 })).rejects.toMatchObject({
      code: 'OVERLOADED',
      message: expect.stringMatching(/no PostgreSQL connection came free within 20 ms.*nothing was run/),
    });
    handOut(late);
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual(['released']);
  });

  it('a server that refuses connections is asked again until connectionTimeoutMs: a restart shorter than that delays the call, a longer one fails it IO_ERROR', async () => {
    const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { pool: answering, log } = scriptedPool(() => undefined);
    let refusals = 3;
    const flaky = { connect: () => (refusals-- > 0 ? Promise.reject(refused()) : answering.connect()) } as unknown as Pool;
    await expect(execute(flaky, write, [], { connectionTimeoutMs: 5000 })).resolves.toBeUndefined();
    expect(refusals).toBe(-1);
    expect(log).toEqual(['BEGIN', 'UPDATE x SET y = 1', 'COMMIT']);

    let asked = 0;
    const away = {
      connect: () => {
        asked++;
        return Promise.reject(refused());
      },
    } as unknown as Pool;
    await expect(execute(away, write, [], { connectionTimeoutMs: 300 })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringMatching(/lost or refused; nothing was written.*ECONNREFUSED/),
    });
    expect(asked).toBeGreaterThan(2);
    // Other failures to connect (a wrong password) are not asked again.
    asked = 0;
    const wrong = {
      connect: () => {
        asked++;
        return Promise.reject(sqlError('28P01', 'password authentication failed'));
      },
    } as unknown as Pool;
    await expect(execute(wrong, write, [], { connectionTimeoutMs: 300 })).rejects.toMatchObject({ code: 'INVALID_STATE', pgCode: '28P01' });
    expect(asked).toBe(1);
  });

  it('errors are known by code, not by their text: a message that reads like the pool’s timeout is not OVERLOADED', async () => {
    const { pool } = scriptedPool((sql) => (sql.startsWith('UPDATE') ? new Error('timeout exceeded when trying to connect') : undefined));
    await expect(execute(pool, write, [])).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('runs a transaction that lost a deadlock again, and gives up on an endless race with CONFLICT', async () => {
    let deadlocks = 1;
    const retried = scriptedPool((sql) => (sql.startsWith('UPDATE') && deadlocks-- > 0 ? sqlError('40P01', 'deadlock detected') : undefined));
    await expect(execute(retried.pool, write, [])).resolves.toBeUndefined();
    expect(retried.log.filter((sql) => sql === 'BEGIN')).toHaveLength(2);
    const racing = implement(memoryUpdate, {
      statements: {},
      async run() {
        throw new RetryTransaction('always raced');
      },
    });
    const endless = scriptedPool(() => undefined);
    await expect(execute(endless.pool, racing, [])).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('always raced') });
    expect(endless.log.filter((sql) => sql === 'BEGIN').length).toBeGreaterThan(2);
  });
});

/** Holds a session's row lock from another connection until released: calls on that session wait. */
async function lockSession(url: string, id: string): Promise<{ release(): Promise<void> }> {
  const client = await pgClient(url);
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM abathur.sessions WHERE id = $1 FOR UPDATE', [id]);
  return { release: async () => void (await client.query('COMMIT')) };
}

/** Waits until `count` of the store's connections are waiting on a lock. */
async function waitingOnLocks(url: string, count: number): Promise<number[]> {
  const client = await pgClient(url);
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'abathur-store' AND wait_event_type = 'Lock' AND datname = current_database()",
    );
    if (rows.length >= count) return rows.map((row) => row.pid);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} connections ever waited on a lock`);
}

describe('PostgreSQL faults', () => {
  it('an append whose eventId was appended and trimmed while it waited for the session appends nothing: it runs again and finds the id', async () => {
    const store = await openPostgresTestStore();
    const url = urlOf(store);
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    // Another host's append of e1, not committed yet: it holds the session's row.
    const other = await pgClient(url);
    await other.query('BEGIN');
    await other.query("UPDATE abathur.sessions SET event_count = 1 WHERE id = 's'");
    await other.query(`INSERT INTO abathur.session_events (session_id, seq, event_id, event) VALUES ('s', 1, 'e1', '"first"')`);
    // The retry looks e1 up (not there yet), then waits for the row.
    const retry = store.sessions.appendEvent('s', 'retry', { eventId: 'e1' });
    await waitingOnLocks(url, 1);
    // Committed together with a trim of it, as trimEvents does it: the event gone, its id kept.
    await other.query(
      "WITH d AS (DELETE FROM abathur.session_events WHERE session_id = 's' AND seq <= 1 RETURNING event_id, seq) " +
        "INSERT INTO abathur.session_trimmed_event_ids (session_id, event_id, seq) SELECT 's', event_id, seq FROM d",
    );
    await other.query('COMMIT');
    expect(await retry).toMatchObject({ seq: 1, eventCount: 1 });
    expect(await store.sessions.get('s')).toMatchObject({ events: [], eventCount: 1 });
  });

  it('a full pool refuses calls past maxQueue with OVERLOADED at once; the accepted ones all complete', async () => {
    const store = await openPostgresTestStore({ pool: { max: 2 }, maxQueue: 3 });
    const url = urlOf(store);
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(url, 's');
    const calls = Array.from({ length: 10 }, (_, i) => store.sessions.appendEvent('s', { i }));
    // Two run (and wait on the lock), three wait for a connection, five are refused.
    const refused = await settleAll(calls.slice(5));
    expect(refused.errors.map((e) => e.code)).toEqual(Array(5).fill('OVERLOADED'));
    await waitingOnLocks(url, 2);
    expect(store.stats()).toMatchObject({ queues: { read: 0, write: 3 }, pool: { max: 2, total: 2, idle: 0, waiting: 3 } });
    await lock.release();
    const accepted = await settleAll(calls.slice(0, 5));
    expect(accepted.errors).toEqual([]);
    expect((await store.sessions.get('s'))!.events).toHaveLength(5);
    expect((await store.audit.list()).items.filter((a) => a.actionType === 'session_append_event')).toHaveLength(5);
  });

  it('an abort withdraws a call still waiting for a connection (ABORTED, never run); a running call runs to the end', async () => {
    const store = await openPostgresTestStore({ pool: { max: 1 } });
    const url = urlOf(store);
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(url, 's');
    const running = new AbortController();
    const first = store.sessions.appendEvent('s', { n: 1 }, { signal: running.signal });
    await waitingOnLocks(url, 1);
    const waiting = new AbortController();
    const second = store.sessions.appendEvent('s', { n: 2 }, { signal: waiting.signal });
    second.catch(() => {});
    expect(store.stats().queues.write).toBe(1);
    waiting.abort(new Error('caller gave up'));
    running.abort(new Error('too late: it is running'));
    await expect(second).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('was not run') });
    await expect(store.sessions.get('s', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    await lock.release();
    await expect(first).resolves.toMatchObject({ eventCount: 1 });
    expect((await store.sessions.get('s'))!.events).toEqual([{ n: 1 }]);
    expect(store.stats().pool).toMatchObject({ waiting: 0 });
  });

  it('one signal shared by many calls waiting for a connection: one listener on it, and its abort withdraws them all', async () => {
    const store = await openPostgresTestStore({ pool: { max: 1 } });
    const url = urlOf(store);
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(url, 's');
    const running = store.sessions.appendEvent('s', { n: 0 });
    await waitingOnLocks(url, 1);
    const shared = new AbortController();
    const waiting = Array.from({ length: 20 }, (_, n) => store.sessions.appendEvent('s', { n: n + 1 }, { signal: shared.signal }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.stats().queues.write).toBe(20);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    shared.abort();
    const settled = await settleAll(waiting);
    expect(settled.errors.map((e) => e.code)).toEqual(Array(20).fill('ABORTED'));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    await lock.release();
    await running;
    expect((await store.sessions.get('s'))!.events).toEqual([{ n: 0 }]);
  });

  it('a killed connection fails its call with IO_ERROR, writes nothing, and the pool replaces it', async () => {
    const store = await openPostgresTestStore({ pool: { max: 4 } });
    const url = urlOf(store);
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(url, 's');
    const call = store.sessions.appendEvent('s', { doomed: true });
    call.catch(() => {});
    const [pid] = await waitingOnLocks(url, 1);
    const admin = await pgClient(url);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(call).rejects.toMatchObject({ code: 'IO_ERROR', pgCode: '57P01', message: expect.stringContaining('nothing was written') });
    await lock.release();
    // Idle connections killed too: the pool drops them (and the process lives on).
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'abathur-store' AND datname = current_database()");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.sessions.appendEvent('s', { after: true })).toMatchObject({ eventCount: 1 });
    expect((await store.sessions.get('s'))!.events).toEqual([{ after: true }]);
  });

  it('a statement past statementTimeoutMs is cancelled by the server: TIMEOUT, nothing written, the store goes on', async () => {
    const store = await openPostgresTestStore({ statementTimeoutMs: 300 });
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(urlOf(store), 's');
    await expect(store.sessions.appendEvent('s', { slow: true })).rejects.toMatchObject({ code: 'TIMEOUT', pgCode: '57014' });
    await lock.release();
    expect((await store.sessions.get('s'))!.events).toEqual([]);
    expect(await store.sessions.appendEvent('s', { fast: true })).toMatchObject({ eventCount: 1 });
  });

  it('a lock held past the server’s lock_timeout is BUSY: nothing written, and the retry succeeds once the lock is free', async () => {
    const url = await freshPostgresUrl();
    const admin = await pgClient(url);
    await admin.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET lock_timeout = '200ms'`);
    const store = await openStore({ url });
    cleanup(() => store.close().catch(() => {}));
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(url, 's');
    await expect(store.sessions.appendEvent('s', { locked: true })).rejects.toMatchObject({ code: 'BUSY', pgCode: '55P03' });
    await lock.release();
    expect(await store.sessions.appendEvent('s', { retried: true })).toMatchObject({ eventCount: 1 });
    expect((await store.sessions.get('s'))!.events).toEqual([{ retried: true }]);
  });

  it('no connection free within pool.connectionTimeoutMs: OVERLOADED, and the call never ran', async () => {
    const store = await openPostgresTestStore({ pool: { max: 1, connectionTimeoutMs: 200 } });
    await store.sessions.create({ id: 's', appName: 'a', userId: 'u' });
    const lock = await lockSession(urlOf(store), 's');
    const holding = store.sessions.appendEvent('s', { first: true });
    await waitingOnLocks(urlOf(store), 1);
    await expect(store.sessions.appendEvent('s', { second: true })).rejects.toMatchObject({ code: 'OVERLOADED', message: expect.stringContaining('nothing was run') });
    await lock.release();
    await holding;
    expect((await store.sessions.get('s'))!.events).toEqual([{ first: true }]);
  });

  it('the server restarted mid-load: calls in flight reject typed, nothing acknowledged is lost, the pool reconnects', async () => {
    const server = await startPostgres({ database: 'restart' });
    cleanup(() => server.stop());
    const store = await openStore({ url: server.url, pool: { max: 8, connectionTimeoutMs: 2000 } });
    cleanup(() => store.close().catch(() => {}));
    const sessions = await Promise.all(Array.from({ length: 16 }, (_, i) => store.sessions.create({ id: `s${i}`, appName: 'a', userId: 'u' })));
    const acknowledged = new Map<string, number[]>(sessions.map((s) => [s.id, []]));
    const failures: unknown[] = [];
    let phase: 'before' | 'after' | 'done' = 'before';
    let afterRestart = 0;
    const load = Promise.all(
      sessions.map(async (session) => {
        for (let n = 0; phase !== 'done'; n++) {
          try {
            await store.sessions.appendEvent(session.id, { n });
            acknowledged.get(session.id)!.push(n);
            if (phase === 'after') afterRestart++;
          } catch (error) {
            failures.push(error);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.restart();
    phase = 'after';
    for (let i = 0; i < 200 && afterRestart < 100; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    phase = 'done';
    await load;
    // Calls that failed did so with a typed error: lost (IO_ERROR) or, mid-COMMIT, unknown.
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(StoreError);
      expect(['IO_ERROR', 'OUTCOME_UNKNOWN'], (failure as StoreError).message).toContain((failure as StoreError).code);
    }
    // The pool came back: the load went on after the restart.
    expect(afterRestart).toBeGreaterThanOrEqual(100);
    // Every acknowledged append is there, once, in order; an unknown outcome at most adds one.
    for (const session of sessions) {
      const events = ((await store.sessions.get(session.id))!.events as { n: number }[]).map((e) => e.n);
      expect(new Set(events).size).toBe(events.length);
      const acked = acknowledged.get(session.id)!;
      expect(acked.every((n) => events.includes(n))).toBe(true);
      expect(events).toEqual([...events].sort((a, b) => a - b));
    }
  });
});
