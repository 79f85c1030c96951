import type { BackupResult, CheckReport, EngineKind, StoreStats } from './types.js';

/** Whether an operation reads (on a reader, in a snapshot) or writes (on the one writer). */
export type OperationKind = 'read' | 'write';

/**
 * What an engine needs to know of an operation to run it: its name and kind, and (as
 * types only) its arguments and result. The catalogue's `Operation` (src/catalogue/operation.ts)
 * is one; this reference lets the engine contract sit on the ground floor without naming
 * the catalogue, which sits above it.
 */
export interface OperationRef<A extends readonly unknown[] = readonly unknown[], R = unknown> {
  readonly name: string;
  readonly kind: OperationKind;
  /** The operation's body on its engine; the contract only reads its argument and result types. */
  run(context: never, args: A): R;
}

/** The argument and result types of an operation, for the facade's typed calls. */
export type ArgsOf<O> = O extends OperationRef<infer A, unknown> ? A : never;
export type ResultOf<O> = O extends OperationRef<readonly unknown[], infer R> ? R : never;

/**
 * What the services talk to: an engine runs catalogue operations by name and settles
 * their promises. The SQLite engine (a writer thread and a reader pool) and the
 * PostgreSQL engine (a node-postgres pool) both implement it; the services never know
 * which one they have.
 */
export interface StoreEngine {
  readonly kind: EngineKind;
  /** Where the data lives: the database file's absolute path, or the server URL without its password. */
  readonly location: string;
  /**
   * The limits the services check payloads against before a call is queued; on SQLite
   * also its reader threads (an adapter splits a long ranking among them).
   */
  readonly options: { readonly maxPayloadBytes: number; readonly maxStateBytes: number; readonly readers?: number };
  /**
   * Runs one catalogue operation. `build` checks and assembles the arguments; if it
   * throws, the promise rejects and nothing is run. A `signal` (an AbortSignal) that
   * aborts before the call starts running withdraws it: it rejects ABORTED. A `trace`
   * (telemetry's, for a span that records) is filled in when the call leaves its queue.
   */
  call<O extends OperationRef>(operation: O, build: () => ArgsOf<O>, signal?: unknown, trace?: CallTrace): Promise<ResultOf<O>>;
  check(): Promise<CheckReport>;
  /**
   * Copies the database to the new file `path` (absolute; validated by the caller) off the
   * caller's thread, or rejects: CONFLICT when `path` exists, INVALID_STATE where the
   * engine's database is not a file. A `signal` that aborts before the copy starts withdraws it.
   */
  backup(path: string, signal?: AbortSignal): Promise<BackupResult>;
  stats(): StoreStats;
  resetStats(): void;
  /** Stops accepting calls (they reject CLOSED), lets accepted ones finish, releases everything. */
  close(): Promise<void>;
}

/** When a call left its queue and with how many others: filled in by the engine, read by telemetry. */
export interface CallTrace {
  /** performance.now() when the call was sent to a thread (SQLite) or got a connection (PostgreSQL). */
  sent: number | undefined;
  /** Calls in the batch it was sent with (1 on PostgreSQL). */
  batch: number;
}
