import type { Pool, PoolClient } from 'pg';
import { listenForAbort } from '../api/abort-listeners.js';
import { StoreError } from '../api/errors.js';
import type { AuditContext } from '../api/types.js';
import type { AuditRecord } from '../catalogue/audit-log.js';
import type { RawRow } from '../catalogue/table.js';
import { isConnectionLoss, isRetryable, pgStoreError, type Phase } from './errors.js';
import { auditParams } from '../catalogue/audit-log.js';
import { PG_AUDIT_INSERT, RetryTransaction, type PgImplementation, type PgQueries, type PgStatements } from './operation.js';

/** Transactions that lost a race (deadlock, serialization, a concurrent version) are run again this many times at most. */
const MAX_ATTEMPTS = 8;

/** The statements of one call, run on its connection; see {@link PgQueries}. */
class CallQueries implements PgQueries<PgStatements> {
  readonly #client: PoolClient;
  readonly #implementation: PgImplementation;
  #statements = 0;

  constructor(client: PoolClient, implementation: PgImplementation) {
    this.#client = client;
    this.#implementation = implementation;
  }

  async all(statement: string, params: readonly unknown[] = []): Promise<RawRow[]> {
    const text = this.#implementation.statements[statement];
    if (text === undefined) throw new Error(`${this.#implementation.operation.name} has no statement "${statement}"`);
    return this.#query(`${this.#implementation.operation.name}.${statement}`, text, params);
  }

  async one(statement: string, params?: readonly unknown[]): Promise<RawRow | undefined> {
    return (await this.all(statement, params))[0];
  }

  async value(statement: string, params?: readonly unknown[]): Promise<unknown> {
    return (await this.one(statement, params))?.[0];
  }

  async audit(ctx: AuditContext | undefined, record: AuditRecord): Promise<void> {
    await this.#query('audit.insert', PG_AUDIT_INSERT, auditParams(ctx, record));
  }

  async #query(name: string, text: string, params: readonly unknown[]): Promise<RawRow[]> {
    // A 'read' call is one statement, its own snapshot; a second would see another one.
    if (++this.#statements > 1 && this.#implementation.mode === 'read') {
      throw new Error(`${this.#implementation.operation.name} runs several statements: its mode must be 'snapshot'`);
    }
    const result = await this.#client.query<unknown[]>({ name, text, values: params as unknown[], rowMode: 'array' });
    return result.rows;
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
  options: ConnectOptions & { onConnected?: () => void } = {},
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

/**
 * A connection from the pool, unless the signal aborts or `connectionTimeoutMs` passes
 * first: then the call is withdrawn (nothing ran) and a connection that arrives later
 * goes straight back. The wait is timed here, not by the pool's own timer, whose error
 * carries nothing but its message to be known by.
 */
function connect(pool: Pool, options: ConnectOptions): Promise<PoolClient> {
  const { signal, connectionTimeoutMs } = options;
  if (signal === undefined && connectionTimeoutMs === undefined) return pool.connect();
  // A transaction run again after a lost race: a signal that aborted meanwhile withdraws it.
  if (signal?.aborted) return Promise.reject(abortedWaiting(signal));
  return new Promise((resolve, reject) => {
    let waiting = true;
    const stop = (): void => {
      waiting = false;
      clearTimeout(timer);
      detach();
    };
    const withdraw = (error: StoreError): void => {
      stop();
      reject(error);
    };
    const timer =
      connectionTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              withdraw(
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
    pool.connect().then(
      (client) => {
        if (!waiting) return client.release();
        stop();
        resolve(client);
      },
      (error: unknown) => {
        if (!waiting) return;
        stop();
        reject(error);
      },
    );
  });
}

function abortedWaiting(signal: AbortSignal): StoreError {
  return new StoreError('ABORTED', 'the call was aborted while it waited for a connection; it was not run', { cause: signal.reason });
}

async function runOnce(
  pool: Pool,
  implementation: PgImplementation,
  args: readonly unknown[],
  options: ConnectOptions & { onConnected?: () => void },
): Promise<Outcome> {
  let client: PoolClient;
  try {
    client = await connect(pool, options);
  } catch (error) {
    return { ok: false, error, phase: 'connect' };
  }
  // Once it has a connection, a call runs to the end, as a call sent to a SQLite thread does.
  options.onConnected?.();
  // Without a listener, a connection that drops while this call holds it would crash the
  // process with an unhandled 'error' event.
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  client.on('error', onError);
  let phase: Phase = 'run';
  const transaction = implementation.mode !== 'read';
  try {
    if (implementation.mode === 'write') await client.query('BEGIN');
    else if (implementation.mode === 'snapshot') await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const value = await implementation.run(new CallQueries(client, implementation), args);
    if (transaction) {
      phase = 'commit';
      const commit = await client.query('COMMIT');
      // COMMIT of a transaction in which a statement failed rolls back without an error.
      if (commit.command !== 'COMMIT') throw new Error(`COMMIT answered ${commit.command}: the transaction was rolled back`);
    }
    return { ok: true, value };
  } catch (error) {
    if (isConnectionLoss(error)) broken ??= error as Error;
    if (transaction && broken === undefined && phase !== 'commit') {
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
