/**
 * The store's one error class. Every rejection carries a stable `code`; errors that came
 * from SQLite also keep SQLite's extended code (`SQLITE_CONSTRAINT_FOREIGNKEY`, …) as
 * `sqliteCode`, and errors that came from PostgreSQL its SQLSTATE as `pgCode`.
 *
 * Errors cross thread boundaries as plain data ({@link WireError}) and are rebuilt here:
 * structured clone keeps only `message` and `name` of an Error, and drops `code`.
 */

export type ErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CONSTRAINT'
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  | 'OVERLOADED'
  | 'CLOSED'
  | 'WORKER_CRASHED'
  | 'OUTCOME_UNKNOWN'
  | 'ABORTED'
  /** The file system refused: disk full, I/O error, unreadable or unwritable location. */
  | 'IO_ERROR'
  /** The file is not a SQLite database, or is damaged. */
  | 'CORRUPT';

export const ERROR_CODES: readonly ErrorCode[] = [
  'NOT_FOUND',
  'CONFLICT',
  'CONSTRAINT',
  'INVALID_ARGUMENT',
  'INVALID_STATE',
  'OVERLOADED',
  'CLOSED',
  'WORKER_CRASHED',
  'OUTCOME_UNKNOWN',
  'ABORTED',
  'IO_ERROR',
  'CORRUPT',
];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: ErrorCode;
  readonly sqliteCode: string | undefined;
  /** The SQLSTATE of an error that came from PostgreSQL (`23505`, `57014`, …). */
  readonly pgCode: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { sqliteCode?: string; pgCode?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sqliteCode = options?.sqliteCode;
    this.pgCode = options?.pgCode;
  }
}

/** An error as it crosses a thread boundary. */
export interface WireError {
  code: ErrorCode;
  message: string;
  sqliteCode?: string;
}

/** Maps SQLite's extended result codes to the store's codes. */
function codeForSqlite(sqliteCode: string): ErrorCode {
  if (sqliteCode.startsWith('SQLITE_CONSTRAINT')) return 'CONSTRAINT';
  if (sqliteCode.startsWith('SQLITE_NOTADB') || sqliteCode.startsWith('SQLITE_CORRUPT')) return 'CORRUPT';
  if (sqliteCode.startsWith('SQLITE_TOOBIG') || sqliteCode.startsWith('SQLITE_RANGE')) return 'INVALID_ARGUMENT';
  if (sqliteCode.startsWith('SQLITE_BUSY') || sqliteCode.startsWith('SQLITE_LOCKED')) return 'INVALID_STATE';
  return 'IO_ERROR';
}

/** Turns anything thrown inside an operation into data that can cross threads. */
export function toWireError(error: unknown): WireError {
  if (error instanceof StoreError) {
    return error.sqliteCode === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, sqliteCode: error.sqliteCode };
  }
  if (error instanceof Error) {
    const sqliteCode = (error as { code?: unknown }).code;
    if (typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_')) {
      return { code: codeForSqlite(sqliteCode), message: error.message, sqliteCode };
    }
    if (error instanceof RangeError || error instanceof TypeError) {
      return { code: 'INVALID_ARGUMENT', message: error.message };
    }
    return { code: 'INVALID_STATE', message: error.message };
  }
  return { code: 'INVALID_STATE', message: String(error) };
}

export function fromWireError(wire: WireError): StoreError {
  return new StoreError(
    wire.code,
    wire.message,
    wire.sqliteCode === undefined ? undefined : { sqliteCode: wire.sqliteCode },
  );
}

export function invalidArgument(message: string): StoreError {
  return new StoreError('INVALID_ARGUMENT', message);
}
