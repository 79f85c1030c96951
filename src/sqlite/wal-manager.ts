import { statSync } from 'node:fs';
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
  /** Back-off after a forced checkpoint that readers blocked, and the idle-checkpoint period. */
  intervalMs: number;
  /** How long a forced checkpoint may wait for readers to leave the WAL. */
  forcedWaitMs: number;
  /** The connection's busy timeout, restored after a forced checkpoint. */
  busyTimeoutMs: number;
}

/**
 * Keeps the WAL bounded. SQLite's auto-checkpoint (PASSIVE, every 1000 pages) runs in the
 * writer's commits and copies frames back, but it can only restart the WAL from the top
 * when no reader still uses it; readers that never pause starve it and the file grows
 * without limit. Past `limitBytes` this forces a TRUNCATE checkpoint, which waits briefly
 * for the readers of old frames to finish (new readers read the database file) and
 * shrinks the file to nothing; when the writer goes idle it does the same.
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

  constructor(db: Connection, policy: WalPolicy) {
    this.#db = db;
    this.#walPath = `${db.name}-wal`;
    this.#policy = policy;
    db.pragma('wal_autocheckpoint = 1000');
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
  // briefly; if readers are still in the way it backs off for a period rather than
  // stalling every commit.
  #forced(mode: CheckpointMode, now: number): CheckpointResult {
    this.#db.pragma(`busy_timeout = ${this.#policy.forcedWaitMs}`);
    try {
      const result = this.checkpoint(mode);
      this.#retryAt = result.busy === 0 ? 0 : now + this.#policy.intervalMs;
      return result;
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#policy.busyTimeoutMs}`);
    }
  }
}
