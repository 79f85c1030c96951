import { openWriterConnection, type Connection, type Synchronous } from './connection.js';
import type { CheckpointResult } from './wal-manager.js';

/** What a checkpointer needs to open its own connection; plain data, sent to its thread. */
export interface CheckpointerConfig {
  path: string;
  /** The writer's: a checkpoint syncs the WAL and the database as commits would. */
  synchronous: Synchronous;
  busyTimeoutMs: number;
  /** How often it copies what the WAL holds back into the database. */
  periodMs: number;
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
 * starts the WAL over without waiting for anyone (see WalManager.restart).
 */
export class Checkpointer {
  readonly #db: Connection;
  readonly #restartAtFrames: number;
  readonly #restartWanted: Int32Array;
  /** Checkpoints that copied frames, the frames they copied, and restarts asked for. */
  passes = 0;
  framesCopied = 0;
  restartsAsked = 0;
  #copiedUpTo = 0;

  constructor(db: Connection, restartAtFrames: number, restartWanted: Int32Array) {
    this.#db = db;
    this.#restartAtFrames = restartAtFrames;
    this.#restartWanted = restartWanted;
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

/** Opens a checkpointer's connection and runs it every `periodMs` until stopped. */
export function runCheckpointer(config: CheckpointerConfig): CheckpointerHandle & { readonly checkpointer: Checkpointer } {
  const db = openWriterConnection(config.path, { synchronous: config.synchronous, busyTimeoutMs: config.busyTimeoutMs, journalSizeLimit: -1 });
  const checkpointer = new Checkpointer(db, config.restartAtFrames, config.restartWanted);
  const timer = setInterval(() => {
    try {
      checkpointer.run();
    } catch {
      // A checkpoint that fails (I/O error, disk full) is retried next period; the
      // writer's own WAL limit still bounds the file.
    }
  }, config.periodMs);
  timer.unref();
  return {
    checkpointer,
    stop() {
      clearInterval(timer);
      if (db.open) db.close();
    },
  };
}

/** The checkpointer on the calling thread (the writer's tests, and the in-process store). */
export const checkpointerOnThisThread: StartCheckpointer = (config) => runCheckpointer(config);
