import { checkDatabase, type CheckReport } from './check.js';
import { openWriterConnection, type Connection, type Synchronous } from './connection.js';
import { operations } from '../catalogue/index.js';
import { PreparedCatalogue } from '../catalogue/prepared.js';
import { toWireError, type WireError } from '../api/errors.js';
import type { OperationCall, WriteBatchResponse } from './protocol.js';
import { applySchema } from './schema.js';
import { checkpointerOnThisThread, type CheckpointerHandle, type StartCheckpointer } from './checkpointer.js';
import { WalManager } from './wal-manager.js';
import { WriteExecutor } from './write-executor.js';

/** What the writer thread needs to open the database; plain data, sent once at start. */
export interface WriterConfig {
  path: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
  journalSizeLimit: number;
  walLimitBytes: number;
  checkpointIntervalMs: number;
  manageWal: boolean;
  /** Mode of a database file the writer creates. Default 0o600. */
  fileMode?: number;
}

export type WriterOpenResult = { ok: true } | { ok: false; error: WireError };

/**
 * How often the checkpointer looks at the WAL, and under a steady write load copies it
 * back. Frequent passes keep each one small and let the WAL start over sooner; when writes
 * only trickle, its passes space out up to checkpointIntervalMs.
 */
const PASSIVE_PERIOD_MS = 25;

/** WAL frames (pages) past which the checkpointer asks for a restart: SQLite's own auto-checkpoint size. */
const RESTART_AT_FRAMES = 1000;

/**
 * How long a forced checkpoint first waits for readers, holding up the writer meanwhile:
 * about one full batch of audited writes (512) on the development machine. Readers that
 * hold their snapshots longer defeat it; each defeat doubles the next try's wait, up to
 * MAX_FORCED_WAIT_MS, until one outlasts them.
 */
const FORCED_WAIT_MS = 20;
const MAX_FORCED_WAIT_MS = 250;

/**
 * How long a restart between batches waits for readers of old frames: a batch of point
 * reads holds its snapshot for well under this. Without a wait, readers that are always
 * busy (two batches in flight per reader) made nearly every restart fail, and the WAL grew
 * to its forced limit under the saturating mix.
 */
const RESTART_WAIT_MS = 2;

/** What an open writer holds. */
interface OpenWriter {
  readonly db: Connection;
  readonly wal: WalManager;
  readonly executor: WriteExecutor;
  readonly timer: NodeJS.Timeout | undefined;
  readonly checkpointer: CheckpointerHandle | undefined;
  /** Set by the checkpointer when the WAL is long enough to start over. */
  readonly restartWanted: Int32Array;
  /** A WAL check is due after the answer to the current batch has gone. */
  walCheckDue: boolean;
  /** `PRAGMA data_version` when {@link Writer.foreignCommits} last looked; undefined before its first look. */
  dataVersion: number | undefined;
}

/**
 * The writer thread's logic: the one read-write connection, the schema, group commit and
 * the WAL's bound. The worker entry (workers/writer.ts) exposes one with comlink, whose
 * calls reach these methods; tests drive one in-process.
 *
 * Checkpoints stay off the commit path: SQLite's auto-checkpoint is off on this
 * connection, a {@link Checkpointer} on a connection of its own copies the WAL back, and
 * the forced checkpoint that keeps the WAL bounded past readers that never pause runs
 * only after a batch's answer has gone.
 *
 * `open` answers a failure as data, so the caller learns why the database would not
 * open with its code intact; the other methods throw, which only a defect makes them do.
 */
export class Writer {
  #open: OpenWriter | undefined;
  readonly #startCheckpointer: StartCheckpointer;

  /** `startCheckpointer`: a helper thread in the worker entry; this thread by default. */
  constructor(startCheckpointer: StartCheckpointer = checkpointerOnThisThread) {
    this.#startCheckpointer = startCheckpointer;
  }

  /** Opens the file, applies the schema (a no-op when present) and prepares the catalogue. */
  open(config: WriterConfig): WriterOpenResult {
    try {
      this.#open = openWriter(config, this.#startCheckpointer);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: toWireError(error) };
    }
  }

  execute(calls: readonly OperationCall[]): WriteBatchResponse {
    const open = this.#opened();
    const outcomes = open.executor.execute(calls);
    const walBytes = open.wal.walBytes();
    if (!open.walCheckDue) {
      open.walCheckDue = true;
      // After this answer has been posted: a forced checkpoint never delays the batch
      // that found the WAL too large, only (by at most FORCED_WAIT_MS) the next one.
      setImmediate(() => {
        open.walCheckDue = false;
        if (this.#open !== open) return;
        open.wal.afterCommit();
        if (Atomics.exchange(open.restartWanted, 0, 0) === 1 && open.wal.restart().log < 0) {
          // The checkpointer was mid-pass (it holds the checkpoint lock): try again after the next batch.
          Atomics.store(open.restartWanted, 0, 1);
        }
      });
    }
    return { outcomes, walBytes };
  }

  /**
   * Whether another connection has committed to the database since the last call:
   * `PRAGMA data_version` on this connection moves with every other connection's commit
   * (another process, another store on the same file) and never with this writer's own,
   * nor with its checkpoints. The WAL watch asks before it wakes anyone, so this store's
   * own commits, which the file watch sees too, wake nobody twice. The first call on a
   * connection has nothing to compare with and answers true.
   */
  foreignCommits(): boolean {
    const open = this.#opened();
    const version = open.db.pragma('data_version', { simple: true }) as number;
    const changed = version !== open.dataVersion;
    open.dataVersion = version;
    return changed;
  }

  /** Verifies the database between batches, with the plan of every catalogue statement. */
  check(): CheckReport {
    return checkDatabase(this.#opened().db, { operations });
  }

  /** Truncates the WAL and closes the connection; a writer that is not open has nothing to close. */
  close(): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    clearInterval(open.timer);
    open.checkpointer?.stop();
    try {
      open.wal.checkpoint('TRUNCATE');
    } finally {
      open.db.close();
    }
  }

  #opened(): OpenWriter {
    if (this.#open === undefined) throw new Error('writer is not open');
    return this.#open;
  }
}

function openWriter(config: WriterConfig, startCheckpointer: StartCheckpointer): OpenWriter {
  const db = openWriterConnection(config.path, config);
  try {
    applySchema(db);
    const wal = new WalManager(db, {
      manage: config.manageWal,
      limitBytes: config.walLimitBytes,
      intervalMs: config.checkpointIntervalMs,
      forcedWaitMs: Math.min(FORCED_WAIT_MS, config.busyTimeoutMs),
      maxForcedWaitMs: Math.min(MAX_FORCED_WAIT_MS, config.busyTimeoutMs),
      restartWaitMs: RESTART_WAIT_MS,
      busyTimeoutMs: config.busyTimeoutMs,
    });
    const executor = new WriteExecutor(new PreparedCatalogue(db, operations, ['write']));
    let timer: NodeJS.Timeout | undefined;
    let checkpointer: CheckpointerHandle | undefined;
    const restartWanted = new Int32Array(new SharedArrayBuffer(4));
    if (config.manageWal) {
      timer = setInterval(() => wal.idle(), config.checkpointIntervalMs);
      timer.unref();
      // Last: nothing after it can fail and leave it running.
      checkpointer = startCheckpointer({
        path: config.path,
        synchronous: config.synchronous,
        busyTimeoutMs: config.busyTimeoutMs,
        periodMs: Math.min(PASSIVE_PERIOD_MS, config.checkpointIntervalMs),
        maxPeriodMs: config.checkpointIntervalMs,
        restartAtFrames: RESTART_AT_FRAMES,
        restartWanted,
      });
    }
    return { db, wal, executor, timer, checkpointer, restartWanted, walCheckDue: false, dataVersion: undefined };
  } catch (error) {
    db.close();
    throw error;
  }
}
