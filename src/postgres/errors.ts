import { StoreError, type ErrorCode } from '../api/errors.js';

/**
 * Where a call was when it failed. A write whose connection broke before COMMIT was
 * sent was rolled back by the server (nothing happened); one that broke while COMMIT was
 * in flight may or may not have committed.
 */
export type Phase = 'connect' | 'run' | 'commit';

/** The code for the store's own defects (a statement the server could not run). */
const DEFECT: ErrorCode = 'INTERNAL';

/** Socket errors of a lost or refused connection. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** node-postgres's own messages for a connection that is gone. */
const LOST = /Connection terminated|not queryable|Client was closed|Connection ended|connection error/i;

/**
 * The SQLSTATE of an error the server sent. A socket's error has a `code` too, and some
 * of those are five capitals as well (`EPIPE`, `EBUSY`): it names its `syscall`.
 */
const sqlstateOf = (error: unknown): string | undefined => {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && syscall === undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/** True for errors that mean the connection to the server is gone or never came. */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sqlstate = sqlstateOf(error);
  if (sqlstate !== undefined) return sqlstate.startsWith('08') || sqlstate === '57P01' || sqlstate === '57P02' || sqlstate === '57P03';
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || LOST.test(error.message);
}

/** True for failures after which running the whole transaction again is safe and may succeed. */
export function isRetryable(error: unknown): boolean {
  const sqlstate = sqlstateOf(error);
  return sqlstate === '40001' || sqlstate === '40P01';
}

/**
 * The store's code for a SQLSTATE. Lock contention the server gave up on is BUSY: a lock
 * wait past `lock_timeout` (55P03), and a deadlock or serialization failure (40P01,
 * 40001) that outlasted the call's own retries; each rolled the transaction back, and the
 * same call may succeed later. A statement the server cancelled (57014) is TIMEOUT.
 */
export function codeForSqlstate(sqlstate: string): ErrorCode {
  if (sqlstate === '23505') return 'CONFLICT';
  if (sqlstate.startsWith('23')) return 'CONSTRAINT';
  if (sqlstate.startsWith('22')) return 'INVALID_ARGUMENT';
  if (sqlstate === '57014') return 'TIMEOUT';
  if (sqlstate === '55P03' || sqlstate === '40001' || sqlstate === '40P01') return 'BUSY';
  if (sqlstate === '53300' || sqlstate === '53400') return 'OVERLOADED';
  if (sqlstate.startsWith('53') || sqlstate.startsWith('58')) return 'IO_ERROR';
  if (sqlstate === 'XX001' || sqlstate === 'XX002') return 'CORRUPT';
  if (sqlstate.startsWith('08') || sqlstate === '57P01' || sqlstate === '57P02' || sqlstate === '57P03') return 'IO_ERROR';
  if (sqlstate === '25006' || sqlstate === '28000' || sqlstate === '28P01' || sqlstate === '3D000') {
    return 'INVALID_STATE';
  }
  return DEFECT;
}

/**
 * Turns anything a PostgreSQL call threw into a StoreError with a stable code, keeping
 * the SQLSTATE as `pgCode` and the original error as `cause`.
 */
export function pgStoreError(error: unknown, context: { operation: string; phase: Phase; write: boolean }): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const sqlstate = sqlstateOf(error);
  const pgCode = sqlstate === undefined ? {} : { pgCode: sqlstate };
  if (isConnectionLoss(error)) {
    if (context.write && context.phase === 'commit') {
      return new StoreError(
        'OUTCOME_UNKNOWN',
        `${context.operation}: the connection to PostgreSQL was lost while COMMIT was in flight; it may or may not have committed (${message})`,
        { ...pgCode, cause: error },
      );
    }
    const outcome = context.write ? 'nothing was written' : 'nothing was read';
    return new StoreError('IO_ERROR', `${context.operation}: the connection to PostgreSQL was lost or refused; ${outcome} (${message})`, {
      ...pgCode,
      cause: error,
    });
  }
  if (sqlstate !== undefined) {
    const code = codeForSqlstate(sqlstate);
    const nothing = context.write ? 'nothing was written' : 'nothing was read';
    let note = '';
    if (code === 'TIMEOUT') {
      note = `; the server cancelled it (it ran past statementTimeoutMs, or was cancelled on the server) and rolled it back: ${nothing}`;
    } else if (code === 'BUSY') {
      note = `; another transaction held the lock: ${nothing}, retry`;
    }
    return new StoreError(code, `${context.operation}: ${message}${note}`, { pgCode: sqlstate, cause: error });
  }
  return new StoreError(DEFECT, `${context.operation}: ${message}`, { cause: error });
}
