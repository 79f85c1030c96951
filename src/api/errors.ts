// Errors cross thread boundaries as plain data (WireError, below) and are rebuilt here:
// structured clone keeps only `message` and `name` of an Error, and drops `code`.

/** What went wrong, as a {@link StoreError}'s stable `code`: branch on it, not on messages. */
export type ErrorCode =
  /** The row a write names does not exist. */
  | 'NOT_FOUND'
  /** A duplicate id, a live memory key added again, an `expectedVersion` that is not current. */
  | 'CONFLICT'
  /** A CHECK or foreign key refused the row (`sqliteCode` says which). */
  | 'CONSTRAINT'
  /** A bad argument, refused before anything was queued. */
  | 'INVALID_ARGUMENT'
  /** A move the row's status forbids; a database file that is newer or not ours. */
  | 'INVALID_STATE'
  /** The read or write queue is full (`maxQueue`): nothing was accepted. */
  | 'OVERLOADED'
  /** Another process held the lock past `busyTimeoutMs` (PostgreSQL: a lock wait timed out): nothing was written; retry. */
  | 'BUSY'
  /** The store is closing or closed. */
  | 'CLOSED'
  /** The thread running the call died (it is replaced), or the writer could not restart. */
  | 'WORKER_CRASHED'
  /** The writer died while committing: the write may or may not have been applied. */
  | 'OUTCOME_UNKNOWN'
  /** The call's `signal` aborted while it still waited in a queue: it was never run. */
  | 'ABORTED'
  /**
   * PostgreSQL cancelled a statement of the call: it ran past `statementTimeoutMs` (or was
   * cancelled on the server). Its transaction rolled back: nothing was written.
   */
  | 'TIMEOUT'
  /** The file system refused: disk full, I/O error, a missing, unopenable or read-only location. */
  | 'IO_ERROR'
  /** The file is not a SQLite database, or is damaged. */
  | 'CORRUPT'
  /** A defect in the store itself (never the caller's input or the disk): please report it. `cause` holds the original error. */
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'NOT_FOUND',
  'CONFLICT',
  'CONSTRAINT',
  'INVALID_ARGUMENT',
  'INVALID_STATE',
  'OVERLOADED',
  'BUSY',
  'CLOSED',
  'WORKER_CRASHED',
  'OUTCOME_UNKNOWN',
  'ABORTED',
  'TIMEOUT',
  'IO_ERROR',
  'CORRUPT',
  'INTERNAL',
];

/**
 * The store's one error class. Every rejection carries a stable `code` that says whose
 * fault it is: the caller's (`INVALID_ARGUMENT`, `NOT_FOUND`, …), the load's
 * (`OVERLOADED`, `BUSY`, `TIMEOUT`: retry later), the disk's (`IO_ERROR`, `CORRUPT`) or the
 * store's own (`INTERNAL`).
 * Errors that came from SQLite also keep SQLite's extended code
 * (`SQLITE_CONSTRAINT_FOREIGNKEY`, …) as `sqliteCode`, errors that came from PostgreSQL
 * its SQLSTATE as `pgCode`, and any error that was translated keeps the original as `cause`.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: ErrorCode;
  /** SQLite's extended result code, when SQLite raised the error. */
  readonly sqliteCode: string | undefined;
  /** The SQLSTATE of an error that came from PostgreSQL (`23505`, `57014`, …). */
  readonly pgCode: string | undefined;

  /** Made by the store; build one yourself only to stand in for the store, as a test's fake does. */
  constructor(code: ErrorCode, message: string, options?: { sqliteCode?: string; pgCode?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sqliteCode = options?.sqliteCode;
    this.pgCode = options?.pgCode;
  }
}

/** The original error behind a translated one, as data that can cross a thread. */
export interface WireCause {
  name: string;
  message: string;
  stack?: string;
  /** The error's own `code` (SQLite's extended code, a Node error code), if it had one. */
  code?: string;
}

/** An error as it crosses a thread boundary. */
export interface WireError {
  code: ErrorCode;
  message: string;
  sqliteCode?: string;
  cause?: WireCause;
}

/**
 * Maps SQLite's extended result codes to the store's codes. Only codes that name a
 * real file-system condition are IO_ERROR; a code we do not expect (SQLITE_ERROR is a
 * SQL mistake, SQLITE_RANGE a binding mistake, SQLITE_MISUSE an API mistake) is ours.
 */
export function codeForSqlite(sqliteCode: string): ErrorCode {
  const base = sqliteCode.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  switch (base) {
    case 'SQLITE_CONSTRAINT':
      return 'CONSTRAINT';
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return 'CORRUPT';
    case 'SQLITE_IOERR':
    case 'SQLITE_FULL':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_READONLY':
      return 'IO_ERROR';
    // A string or blob over SQLite's own limit: the caller's value is too big.
    case 'SQLITE_TOOBIG':
      return 'INVALID_ARGUMENT';
    // Another connection (another process) held the lock past busy_timeout: nothing
    // was written, and the same call may succeed once the lock is free.
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'BUSY';
    default:
      return 'INTERNAL';
  }
}

function wireCause(error: unknown): WireCause {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const cause: WireCause = { name: error.name, message: error.message };
  if (error.stack !== undefined) cause.stack = error.stack;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') cause.code = code;
  return cause;
}

/**
 * Turns anything thrown inside an operation into data that can cross threads. A
 * StoreError passes as it is; a SQLite error is mapped by its code; anything else
 * (a TypeError, a RangeError, a plain Error) was not meant to happen and is INTERNAL.
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof StoreError) {
    const wire: WireError = { code: error.code, message: error.message };
    if (error.sqliteCode !== undefined) wire.sqliteCode = error.sqliteCode;
    if (error.cause !== undefined) wire.cause = wireCause(error.cause);
    return wire;
  }
  const sqliteCode = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_')) {
    return { code: codeForSqlite(sqliteCode), message: (error as Error).message, sqliteCode, cause: wireCause(error) };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), cause: wireCause(error) };
}

/** Rebuilds a StoreError from its wire form, with its cause as an Error. */
export function fromWireError(wire: WireError): StoreError {
  let cause: Error | undefined;
  if (wire.cause !== undefined) {
    cause = new Error(wire.cause.message);
    cause.name = wire.cause.name;
    if (wire.cause.stack !== undefined) cause.stack = wire.cause.stack;
    if (wire.cause.code !== undefined) Object.assign(cause, { code: wire.cause.code });
  }
  return new StoreError(wire.code, wire.message, {
    ...(wire.sqliteCode === undefined ? {} : { sqliteCode: wire.sqliteCode }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Anything a call's own code threw on the caller's thread, as a StoreError. */
export function toStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const wire = toWireError(error);
  return new StoreError(wire.code, wire.message, {
    ...(wire.sqliteCode === undefined ? {} : { sqliteCode: wire.sqliteCode }),
    cause: error,
  });
}

/** The rejection of a call whose signal aborted before it ran; the signal's reason is the cause. */
export function aborted(operation: string, signal: AbortSignal): StoreError {
  return new StoreError('ABORTED', `${operation} was aborted before it ran`, { cause: signal.reason });
}

export function invalidArgument(message: string): StoreError {
  return new StoreError('INVALID_ARGUMENT', message);
}

/**
 * An OVERLOADED error without a stack trace, as both engines refuse a call past their
 * queue: capturing one costs several times what the rest of a refused call does, and a
 * surge refuses calls by the hundred thousand.
 */
export function overloaded(message: string): StoreError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new StoreError('OVERLOADED', message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
