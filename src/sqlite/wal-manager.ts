import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Connection } from './connection.js';

export type CheckpointMode = 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE';

export interface CheckpointResult {
  /** 1 when readers or another checkpoint kept it from finishing. */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied back into the database. */
  checkpointed: number;
}

export interface WalPolicy {
  /** When false, SQLite's own passive auto-checkpoint is all there is (a negative control). */
  manage: boolean;
  /** A WAL larger than this means passive checkpoints are starved: force TRUNCATE. */
  limitBytes: number;
  /** Longest back-off after a forced checkpoint that readers blocked, and the idle-checkpoint period. */
  intervalMs: number;
  /** How long a forced checkpoint may wait for readers to leave the WAL: its first try. */
  forcedWaitMs: number;
  /** Each try that readers defeat doubles the next one's wait, up to this; a success resets it. */
  maxForcedWaitMs: number;
  /** How long a restart between batches waits for readers of old frames (see restart). */
  restartWaitMs: number;
  /** The connection's busy timeout, restored after a forced checkpoint. */
  busyTimeoutMs: number;
}

/**
 * Keeps the WAL bounded, on the writer's connection. When managed, SQLite's
 * auto-checkpoint is off here (it would copy pages and sync inside the writer's commits):
 * the writer's {@link Checkpointer} copies frames back on its own connection, and asks
 * for a {@link restart} between batches once the WAL is long. Readers that never pause
 * starve that restart and the file grows without limit; past `limitBytes` this forces a
 * TRUNCATE checkpoint, which waits briefly for the readers of old frames to finish (new
 * readers read the database file) and shrinks the file to nothing; when the writer goes
 * idle it does the same. Unmanaged, SQLite's own auto-checkpoint (PASSIVE, every 1000
 * pages, in the commits) is all there is.
 */
export class WalManager {
  readonly #db: Connection;
  readonly #walPath: string;
  readonly #policy: WalPolicy;
  /** After a forced checkpoint found readers in the way, when to try again. */
  #retryAt = 0;
  #lastCommit = 0;
  #writesSinceCheckpoint = false;
  #walBytes = 0;
  peakBytes = 0;
  forcedCheckpoints = 0;
  /** Restarts tried between batches, and those readers let through. */
  restartTries = 0;
  restarts = 0;
  /** How long the next forced checkpoint may wait for readers. */
  forcedWaitMs: number;

  constructor(db: Connection, policy: WalPolicy) {
    this.#db = db;
    this.#walPath = `${db.name}-wal`;
    this.#policy = policy;
    this.forcedWaitMs = policy.forcedWaitMs;
    db.pragma(`wal_autocheckpoint = ${policy.manage ? 0 : 1000}`);
  }

  /** The WAL file's size in bytes (0 when it does not exist). */
  walBytes(): number {
    try {
      this.#walBytes = statSync(this.#walPath).size;
    } catch {
      this.#walBytes = 0;
    }
    if (this.#walBytes > this.peakBytes) this.peakBytes = this.#walBytes;
    return this.#walBytes;
  }

  /** Called after every commit; returns the WAL size it leaves. */
  afterCommit(now = Date.now()): number {
    this.#writesSinceCheckpoint = true;
    this.#lastCommit = now;
    const bytes = this.walBytes();
    if (!this.#policy.manage || bytes <= this.#policy.limitBytes || now < this.#retryAt) return bytes;
    this.forcedCheckpoints++;
    this.#forced('TRUNCATE', now);
    return this.walBytes();
  }

  /**
   * Finishes what the checkpointer copied and starts the WAL over, waiting at most
   * `restartWaitMs` for readers of old frames to finish. Called between batches when the
   * checkpointer asks; readers that outstay the wait make it say so (busy), and the
   * checkpointer asks again.
   */
  restart(): CheckpointResult {
    this.restartTries++;
    const result = this.#poll('RESTART', this.#policy.restartWaitMs);
    if (result.busy === 0) this.restarts++;
    return result;
  }

  /** Called periodically: a writer that has gone quiet truncates the WAL. */
  idle(now = Date.now()): void {
    if (!this.#policy.manage || !this.#writesSinceCheckpoint) return;
    if (now - this.#lastCommit < this.#policy.intervalMs || now < this.#retryAt) return;
    if (this.#forced('TRUNCATE', now).busy === 0) this.#writesSinceCheckpoint = false;
    this.walBytes();
  }

  checkpoint(mode: CheckpointMode): CheckpointResult {
    const [row] = this.#db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[];
    return row!;
  }

  // A forced checkpoint holds up the writer while it waits for readers, so it waits
  // briefly. If readers are still in the way it lets the writer run for as long as it
  // waited (at most a period) rather than stalling every commit, then waits twice as long:
  // readers whose transactions outlast the short wait starve the WAL only until the wait
  // outlasts them, and the writer keeps at least half its time meanwhile.
  #forced(mode: CheckpointMode, now: number): CheckpointResult {
    const result = this.#poll(mode, this.forcedWaitMs);
    if (result.busy === 0) {
      this.#retryAt = 0;
      this.forcedWaitMs = this.#policy.forcedWaitMs;
    } else {
      this.#retryAt = now + Math.min(this.#policy.intervalMs, this.forcedWaitMs);
      this.forcedWaitMs = Math.min(this.#policy.maxForcedWaitMs, this.forcedWaitMs * 2);
    }
    return result;
  }

  /**
   * Tries a checkpoint until readers let it finish or `waitMs` has passed. It polls
   * without SQLite's busy handler (busy_timeout 0 meanwhile), whose sleeps (1, 2, 5, 10 ms,
   * ...) would overshoot a short wait by as much as the wait itself: a checkpoint that
   * finds readers in the way returns at once, keeping what it copied, and the next try a
   * fraction of a millisecond later goes on from there.
   */
  #poll(mode: CheckpointMode, waitMs: number): CheckpointResult {
    const deadline = performance.now() + waitMs;
    this.#db.pragma('busy_timeout = 0');
    try {
      let result = this.checkpoint(mode);
      while (result.busy !== 0 && performance.now() < deadline) {
        Atomics.wait(pause, 0, 0, POLL_MS);
        result = this.checkpoint(mode);
      }
      return result;
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#policy.busyTimeoutMs}`);
    }
  }
}

/** How long a forced checkpoint or a restart sleeps between tries. */
const POLL_MS = 0.25;
/** Something to sleep on: Atomics.wait with a timeout sleeps this thread, to the microsecond. */
const pause = new Int32Array(new SharedArrayBuffer(4));
