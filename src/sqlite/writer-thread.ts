import { checkDatabase, type CheckReport } from '../diagnostics/check.js';
import { openWriterConnection, type Connection, type Synchronous } from './connection.js';
import { operations } from '../catalogue/index.js';
import { PreparedCatalogue } from '../catalogue/prepared.js';
import { toWireError, type WireError } from '../api/errors.js';
import type { OperationCall, WriteBatchResponse } from './protocol.js';
import { applySchema } from './schema.js';
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

/** What an open writer holds. */
interface OpenWriter {
  readonly db: Connection;
  readonly wal: WalManager;
  readonly executor: WriteExecutor;
  readonly timer: NodeJS.Timeout | undefined;
}

/**
 * The writer thread's logic: the one read-write connection, the schema, group commit and
 * WAL checkpoints. The worker entry (workers/writer.ts) exposes one with comlink, whose
 * calls reach these methods; tests drive one in-process.
 *
 * `open` answers a failure as data, so the caller learns why the database would not
 * open with its code intact; the other methods throw, which only a defect makes them do.
 */
export class Writer {
  #open: OpenWriter | undefined;

  /** Opens the file, applies the schema (a no-op when present) and prepares the catalogue. */
  open(config: WriterConfig): WriterOpenResult {
    try {
      this.#open = openWriter(config);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: toWireError(error) };
    }
  }

  execute(calls: readonly OperationCall[]): WriteBatchResponse {
    const { executor, wal } = this.#opened();
    const outcomes = executor.execute(calls);
    return { outcomes, walBytes: wal.afterCommit() };
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

function openWriter(config: WriterConfig): OpenWriter {
  const db = openWriterConnection(config.path, config);
  try {
    applySchema(db);
    const wal = new WalManager(db, {
      manage: config.manageWal,
      limitBytes: config.walLimitBytes,
      intervalMs: config.checkpointIntervalMs,
      forcedWaitMs: Math.min(250, config.busyTimeoutMs),
      busyTimeoutMs: config.busyTimeoutMs,
    });
    const executor = new WriteExecutor(new PreparedCatalogue(db, operations, ['write']));
    let timer: NodeJS.Timeout | undefined;
    if (config.manageWal) {
      timer = setInterval(() => wal.idle(), config.checkpointIntervalMs);
      timer.unref();
    }
    return { db, wal, executor, timer };
  } catch (error) {
    db.close();
    throw error;
  }
}
