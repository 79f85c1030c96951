import type { ArgsOf, Operation, ResultOf } from '../catalogue/operation.js';
import type { BackupResult, CheckReport, EngineKind, StoreStats } from '../api/types.js';

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
   * The limits the services check payloads against before a call is queued, and the bound
   * of each cache of decoded histories the services and adapters keep (0: none).
   */
  readonly options: { readonly maxPayloadBytes: number; readonly maxStateBytes: number; readonly decodeCacheBytes: number };
  /**
   * Runs one catalogue operation. `build` checks and assembles the arguments; if it
   * throws, the promise rejects and nothing is run. A `signal` (an AbortSignal) that
   * aborts before the call starts running withdraws it: it rejects ABORTED.
   */
  call<O extends Operation>(operation: O, build: () => ArgsOf<O>, signal?: unknown): Promise<ResultOf<O>>;
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
