import { performance } from 'node:perf_hooks';
import { openWriterConnection, type Connection, type Synchronous } from './connection.js';
import type { CheckpointResult } from './wal-manager.js';

/** What a checkpointer needs to open its own connection; plain data, sent to its thread. */
export interface CheckpointerConfig {
  path: string;
  /** The writer's: a checkpoint syncs the WAL and the database as commits would. */
  synchronous: Synchronous;
  busyTimeoutMs: number;
  /** How often it looks at the WAL: the shortest gap between two passes. */
  periodMs: number;
  /**
   * The longest gap between two passes. After a pass that copied little the gap doubles,
   * up to this; after one that copied a lot it goes back to `periodMs`. A trickle of
   * writes then costs a pass (two file syncs) a second, not forty.
   */
  maxPeriodMs: number;
  /** WAL frames past which it asks the writer to start the WAL over. */
  restartAtFrames: number;
  /** Shared with the writer: set to 1 to ask it for a restart between batches. */
  restartWanted: Int32Array;
}

/** A running checkpointer, as the writer holds it. */
export interface CheckpointerHandle {
  /** Stops it and closes its connection (on its thread, soon after). */
  stop(): void;
}

/** Starts a checkpointer for the writer: on a helper thread, or in tests on this one. */
export type StartCheckpointer = (config: CheckpointerConfig) => CheckpointerHandle;

/**
 * Copies committed frames from the WAL back into the database, off the writer's commit
 * path: PASSIVE checkpoints on a connection of its own, which take no lock a writer or a
 * reader waits for. The writer runs with SQLite's auto-checkpoint off, so no commit ever
 * copies pages or syncs the database file.
 *
 * Copying alone does not keep the file small: SQLite starts the WAL over from its
 * beginning only when a write transaction begins with every frame already copied, and
 * under a steady write load the writer always has frames this has not copied yet. So once
 * the WAL holds `restartAtFrames`, this asks the writer (a flag in shared memory) to finish
 * the job between two batches: a RESTART checkpoint that copies the few frames left and
 * starts the WAL over, waiting a couple of milliseconds at most for readers of old frames
 * (see WalManager.restart).
 */
export class Checkpointer {
  readonly #db: Connection;
  readonly #restartAtFrames: number;
  readonly #restartWanted: Int32Array;
  readonly #minGapMs: number;
  readonly #maxGapMs: number;
  /** The gap before the next pass, and when it is due. */
  gapMs: number;
  #dueAt = 0;
  /** Checkpoints that copied frames, the frames they copied, and restarts asked for. */
  passes = 0;
  /** Calls of {@link Checkpointer.tick}: how often its thread woke. */
  looks = 0;
  framesCopied = 0;
  restartsAsked = 0;
  #copiedUpTo = 0;

  constructor(db: Connection, restartAtFrames: number, restartWanted: Int32Array, minGapMs = 0, maxGapMs = 0) {
    this.#db = db;
    this.#restartAtFrames = restartAtFrames;
    this.#restartWanted = restartWanted;
    this.#minGapMs = minGapMs;
    this.#maxGapMs = Math.max(minGapMs, maxGapMs);
    this.gapMs = minGapMs;
  }

  /**
   * Called when a pass may be due: runs one if it is. A pass that copied at least a
   * sixteenth of `restartAtFrames` brings the next one as close as it can be; one that
   * copied less puts it twice as far off, up to the longest gap.
   */
  tick(now: number): CheckpointResult | undefined {
    this.looks++;
    if (now < this.#dueAt) return undefined;
    const before = this.framesCopied;
    const result = this.run();
    const copied = this.framesCopied - before;
    this.gapMs = copied * 16 >= this.#restartAtFrames ? this.#minGapMs : Math.min(this.#maxGapMs, this.gapMs * 2);
    this.#dueAt = now + this.gapMs;
    return result;
  }

  /** Milliseconds from `now` until the next pass is due (0: due now). */
  dueIn(now: number): number {
    return Math.max(0, this.#dueAt - now);
  }

  /** One PASSIVE checkpoint: copies what it can without waiting for anyone. */
  run(): CheckpointResult {
    const [row] = this.#db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    const result = row!;
    // `checkpointed` counts from the WAL's start, which moves back to 0 when it restarts.
    const copied = result.checkpointed >= this.#copiedUpTo ? result.checkpointed - this.#copiedUpTo : result.checkpointed;
    if (copied > 0) {
      this.passes++;
      this.framesCopied += copied;
    }
    this.#copiedUpTo = result.checkpointed;
    if (result.log >= this.#restartAtFrames && Atomics.compareExchange(this.#restartWanted, 0, 0, 1) === 0) this.restartsAsked++;
    return result;
  }
}

/**
 * Opens a checkpointer's connection and runs its passes until stopped, each when it is
 * due: one timer, set for the next pass, rather than one every `periodMs`. While writes
 * only trickle or nothing happens, the thread then wakes once every `maxPeriodMs` (a
 * second by default), not forty times a second to find that no pass is due.
 */
export function runCheckpointer(config: CheckpointerConfig): CheckpointerHandle & { readonly checkpointer: Checkpointer } {
  const db = openWriterConnection(config.path, { synchronous: config.synchronous, busyTimeoutMs: config.busyTimeoutMs, journalSizeLimit: -1 });
  const checkpointer = new Checkpointer(db, config.restartAtFrames, config.restartWanted, config.periodMs, config.maxPeriodMs);
  let timer: NodeJS.Timeout | undefined;
  const wake = (): void => {
    const now = performance.now();
    try {
      checkpointer.tick(now);
    } catch {
      // A checkpoint that fails (I/O error, disk full) is retried at the next pass; the
      // writer's own WAL limit still bounds the file.
    }
    timer = setTimeout(wake, Math.max(1, checkpointer.dueIn(now)));
    timer.unref();
  };
  timer = setTimeout(wake, config.periodMs);
  timer.unref();
  return {
    checkpointer,
    stop() {
      clearTimeout(timer);
      if (db.open) db.close();
    },
  };
}

/** The checkpointer on the calling thread (the writer's tests, and the in-process store). */
export const checkpointerOnThisThread: StartCheckpointer = (config) => runCheckpointer(config);
