import type { ArgsOf, Operation, ResultOf } from '../catalogue/operation.js';
import type { CheckReport } from '../diagnostics/check.js';
import type { BatchSummary, LatencySummary } from '../sqlite/engine-stats.js';

/** Which storage engine a store runs on. */
export type EngineKind = 'sqlite' | 'postgres';

export interface StoreStats {
  /** The storage engine. */
  engine: EngineKind;
  /** Calls accepted and waiting: for a worker (SQLite), or for a pooled connection (PostgreSQL). */
  queues: { read: number; write: number };
  /** Reads per reader message and writes per commit since the last reset (SQLite; zeros on PostgreSQL). */
  batches: { read: BatchSummary; write: BatchSummary };
  /** Per-operation latency on the caller's side, in microseconds: accepted → settled. */
  latency: Record<string, LatencySummary>;
  /** The WAL file after the last commit, and the largest it has been (SQLite; zeros on PostgreSQL). */
  wal: { bytes: number; peakBytes: number };
  /** Threads started to replace ones that died (SQLite; zeros on PostgreSQL). */
  restarts: { readers: number; writer: number };
  /** Reader threads (SQLite); 0 on PostgreSQL. */
  readers: number;
  /** The connection pool (PostgreSQL only): its bound, open connections, idle ones, calls waiting for one. */
  pool?: { max: number; total: number; idle: number; waiting: number };
}

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
   * Runs one catalogue operation. `build` checks and assembles the arguments; if it
   * throws, the promise rejects and nothing is run. A `signal` (an AbortSignal) that
   * aborts before the call starts running withdraws it: it rejects ABORTED.
   */
  call<O extends Operation>(operation: O, build: () => ArgsOf<O>, signal?: unknown): Promise<ResultOf<O>>;
  check(): Promise<CheckReport>;
  stats(): StoreStats;
  resetStats(): void;
  /** Stops accepting calls (they reject CLOSED), lets accepted ones finish, releases everything. */
  close(): Promise<void>;
}
