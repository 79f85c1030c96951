import type { Pool, PoolClient } from 'pg';
import { listenForAbort } from '../api/abort-listeners.js';
import { StoreError } from '../api/errors.js';
import type { AuditContext } from '../api/types.js';
import type { AuditRecord } from '../catalogue/audit-log.js';
import type { RawRow } from '../catalogue/table.js';
import { isConnectionLoss, isRetryable, pgStoreError, type Phase } from './errors.js';
import { auditParams } from '../catalogue/audit-log.js';
import { modeFor, PG_AUDIT_INSERT, RetryTransaction, type PgImplementation, type PgMode, type PgQueries, type PgStatements } from './operation.js';

/** Transactions that lost a race (deadlock, serialization, a concurrent version) are run again this many times at most. */
const MAX_ATTEMPTS = 8;

/**
 * The statements of one call, run on its connection; see {@link PgQueries}.
 *
 * Round trips: on a pipelining connection (node-postgres 8.20 and later, `pipeline: true`)
 * a transaction's BEGIN goes out with its first statement, and the audit rows a write
 * asked for go out with its COMMIT, so a write of n statements waits for n + 1 answers
 * instead of n + 3. On an older node-postgres, which answers one query at a time, the
 * same statements go one by one.
 */
class CallQueries implements PgQueries<PgStatements> {
  readonly #client: PoolClient;
  readonly #implementation: PgImplementation;
  readonly #mode: PgMode;
  readonly #pipelined: boolean;
  /** Statements sent and not yet waited for (BEGIN, a lock): the next statement waits for them too. */
  #unanswered: Promise<unknown>[] = [];
  #statements = 0;
  /** Audit rows to insert just before COMMIT. */
  readonly #audits: unknown[][] = [];

  constructor(client: PoolClient, implementation: PgImplementation, mode: PgMode) {
    this.#client = client;
    this.#implementation = implementation;
    this.#mode = mode;
    this.#pipelined = (client as { pipeline?: boolean }).pipeline === true;
  }

  /** Starts the call's transaction; on a pipelining connection, without waiting for the answer. */
  async begin(statement: string): Promise<void> {
    const begin = this.#client.query(statement);
    if (!this.#pipelined) {
      await begin;
      return;
    }
    this.#later(begin);
  }

  async send(statement: string, params: readonly unknown[] = []): Promise<void> {
    const query = this.#statement(statement, params);
    if (this.#pipelined) this.#later(query);
    else await query;
  }

  /** A query whose answer the next one waits for. Caught here and rethrown by that wait: it must not be unhandled meanwhile. */
  #later(query: Promise<unknown>): void {
    query.catch(() => {});
    this.#unanswered.push(query);
  }

  async all(statement: string, params: readonly unknown[] = []): Promise<RawRow[]> {
    const query = this.#statement(statement, params);
    // In order: an earlier statement's failure is the one to report.
    for (const earlier of this.#unanswered.splice(0)) await earlier;
    return (await query).rows;
  }

  async one(statement: string, params?: readonly unknown[]): Promise<RawRow | undefined> {
    return (await this.all(statement, params))[0];
  }

  async value(statement: string, params?: readonly unknown[]): Promise<unknown> {
    return (await this.one(statement, params))?.[0];
  }

  /** Costs no round trip of its own: the row is inserted with the COMMIT ({@link commit}). */
  audit(ctx: AuditContext | undefined, record: AuditRecord): Promise<void> {
    this.#audits.push(auditParams(ctx, record));
    return Promise.resolve();
  }

  /**
   * Inserts the audit rows and commits; on a pipelining connection, in one round trip.
   * `sending` is called as the COMMIT goes out: from then on, a lost connection leaves the
   * outcome unknown.
   */
  async commit(sending: () => void): Promise<void> {
    const insert = (values: unknown[]) => this.#client.query({ name: 'audit.insert', text: PG_AUDIT_INSERT, values });
    // Sent one at a time where the connection does not pipeline.
    const audits = this.#pipelined ? this.#audits.splice(0).map(insert) : [];
    if (!this.#pipelined) for (const values of this.#audits.splice(0)) await insert(values);
    let commit: { command: string };
    if (this.#pipelined) {
      sending();
      const sent: Promise<unknown>[] = [...this.#unanswered.splice(0), ...audits, this.#client.query('COMMIT')];
      // The first failure is the one to report; the COMMIT behind it then answers ROLLBACK.
      commit = (await Promise.all(sent)).at(-1) as { command: string };
    } else {
        sending();
      commit = await this.#client.query('COMMIT');
    }
    // COMMIT of a transaction in which a statement failed rolls back without an error.
    if (commit.command !== 'COMMIT') throw new Error(`COMMIT answered ${commit.command}: the transaction was rolled back`);
  }

  #statement(statement: string, params: readonly unknown[]): Promise<{ rows: RawRow[] }> {
    const text = this.#implementation.statements[statement];
    if (text === undefined) throw new Error(`${this.#implementation.operation.name} has no statement "${statement}"`);
    // A 'read' call is one statement, its own snapshot; a second would see another one.
    if (++this.#statements > 1 && this.#mode === 'read') {
      throw new Error(`${this.#implementation.operation.name} runs several statements: its mode must be 'snapshot'`);
    }
    const name = `${this.#implementation.operation.name}.${statement}`;
    const query = this.#client.query<unknown[]>({ name, text, values: params as unknown[], rowMode: 'array' });
    if (this.#unanswered.length > 0) query.catch(() => {});
    return query;
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one call on a pooled connection: a write in BEGIN … COMMIT, a snapshot read in a
 * REPEATABLE READ READ ONLY transaction, a one-statement read on its own. Tracks how far
 * it got, so a lost connection is reported as `IO_ERROR` (rolled back) or, during COMMIT,
 * `OUTCOME_UNKNOWN`. Transactions that lost a race are run again from the start.
 */
export async function execute(
  pool: Pool,
  implementation: PgImplementation,
  args: readonly unknown[],
  options: ConnectOptions & { onConnected?: (client: PoolClient) => void } = {},
): Promise<unknown> {
  const write = implementation.mode === 'write';
  for (let attempt = 1; ; attempt++) {
    const outcome = await runOnce(pool, implementation, args, options);
    if (outcome.ok) return outcome.value;
    const { error, phase } = outcome;
    const again = error instanceof RetryTransaction || (isRetryable(error) && phase !== 'commit');
    if (again && attempt < MAX_ATTEMPTS) {
      // Jitter, so that the racers do not collide again in step.
      await pause(Math.random() * 2 ** Math.min(attempt, 5));
      continue;
    }
    if (error instanceof RetryTransaction) {
      throw new StoreError('CONFLICT', `${implementation.operation.name}: ${error.message}, ${attempt} times; retry later`);
    }
    throw pgStoreError(error, { operation: implementation.operation.name, phase, write });
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown; phase: Phase };

/** How a call waits for its connection. */
export interface ConnectOptions {
  /** Withdraws the call while it waits (ABORTED). */
  signal?: AbortSignal;
  /** Refuses the call (OVERLOADED) when no connection came within this long. */
  connectionTimeoutMs?: number;
}

/** The first wait before asking again for a connection the server refused; it doubles up to {@link REFUSED_MAX_PAUSE_MS}. */
const REFUSED_FIRST_PAUSE_MS = 25;
const REFUSED_MAX_PAUSE_MS = 500;

/**
 * A connection from the pool, unless the signal aborts or `connectionTimeoutMs` passes
 * first: then the call is withdrawn (nothing ran) and a connection that arrives later
 * goes straight back. The wait is timed here, not by the pool's own timer, whose error
 * carries nothing but its message to be known by.
 *
 * A server that refuses connections (restarting, starting up, shutting down) is asked
 * again, with growing pauses, until `connectionTimeoutMs` has passed: nothing has run, so
 * asking again is safe, and a restart shorter than that delays calls instead of failing
 * them. Past it the call fails with the refusal (IO_ERROR), not OVERLOADED: the pool was
 * not busy, the server was away.
 */
function connect(pool: Pool, options: ConnectOptions): Promise<PoolClient> {
  const { signal, connectionTimeoutMs } = options;
  if (signal === undefined && connectionTimeoutMs === undefined) return pool.connect();
  // A transaction run again after a lost race: a signal that aborted meanwhile withdraws it.
  if (signal?.aborted) return Promise.reject(abortedWaiting(signal));
  return new Promise((resolve, reject) => {
    let waiting = true;
    let refused: unknown;
    let retry: NodeJS.Timeout | undefined;
    const stop = (): void => {
      waiting = false;
      clearTimeout(timer);
      clearTimeout(retry);
      detach();
    };
    const withdraw = (error: unknown): void => {
      stop();
      reject(error);
    };
    const deadline = connectionTimeoutMs === undefined ? undefined : performance.now() + connectionTimeoutMs;
    const timer =
      connectionTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              withdraw(
                refused ??
                  new StoreError(
                    'OVERLOADED',
                    `no PostgreSQL connection came free within ${connectionTimeoutMs} ms (pool.connectionTimeoutMs); nothing was run, retry later`,
                  ),
              ),
            connectionTimeoutMs,
          );
    const detach =
      signal === undefined
        ? () => {}
        : listenForAbort(signal, () => withdraw(abortedWaiting(signal)));
    const ask = (pause: number): void => {
      pool.connect().then(
        (client) => {
          if (!waiting) return client.release();
          stop();
          resolve(client);
        },
        (error: unknown) => {
          if (!waiting) return;
          // Refused, and time left to ask again before the deadline's timer settles the call.
          if (deadline !== undefined && isConnectionLoss(error) && performance.now() + pause < deadline) {
            refused = error;
            retry = setTimeout(() => ask(Math.min(pause * 2, REFUSED_MAX_PAUSE_MS)), pause);
            return;
          }
          withdraw(error);
        },
      );
    };
    ask(REFUSED_FIRST_PAUSE_MS);
  });
}

function abortedWaiting(signal: AbortSignal): StoreError {
  return new StoreError('ABORTED', 'the call was aborted while it waited for a connection; it was not run', { cause: signal.reason });
}

async function runOnce(
  pool: Pool,
  implementation: PgImplementation,
  args: readonly unknown[],
  options: ConnectOptions & { onConnected?: (client: PoolClient) => void },
): Promise<Outcome> {
  let client: PoolClient;
  try {
    client = await connect(pool, options);
  } catch (error) {
    return { ok: false, error, phase: 'connect' };
  }
  // Once it has a connection, a call runs to the end, as a call sent to a SQLite thread does.
  options.onConnected?.(client);
  // Without a listener, a connection that drops while this call holds it would crash the
  // process with an unhandled 'error' event.
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  client.on('error', onError);
  let phase: Phase = 'run';
  const mode = modeFor(implementation, args);
  const transaction = mode !== 'read';
  const queries = new CallQueries(client, implementation, mode);
  try {
    if (mode === 'write') await queries.begin('BEGIN');
    else if (mode === 'snapshot') await queries.begin('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const value = await implementation.run(queries, args);
    if (transaction) await queries.commit(() => (phase = 'commit'));
    return { ok: true, value };
  } catch (error) {
    if (isConnectionLoss(error)) broken ??= error as Error;
    // After a failure in the commit's round trip (an audit row refused) the transaction is
    // still open and aborted: it is rolled back too. A ROLLBACK with none open only warns.
    if (transaction && broken === undefined) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken ??= rollbackError as Error;
      });
    }
    return { ok: false, error, phase };
  } finally {
    client.off('error', onError);
    // A truthy argument destroys the connection instead of returning it to the pool.
    client.release(broken);
  }
}
