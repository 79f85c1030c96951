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

/**
 * The writer's logic: the one read-write connection, the schema, group commit and WAL
 * checkpoints. The worker entry (workers/writer.ts) only exposes it; tests drive it
 * in-process.
 */
export class WriterService {
  readonly db: Connection;
  readonly wal: WalManager;
  readonly #executor: WriteExecutor;
  #timer: NodeJS.Timeout | undefined;

  private constructor(db: Connection, config: WriterConfig) {
    this.db = db;
    this.wal = new WalManager(db, {
      manage: config.manageWal,
      limitBytes: config.walLimitBytes,
      intervalMs: config.checkpointIntervalMs,
      forcedWaitMs: Math.min(250, config.busyTimeoutMs),
      busyTimeoutMs: config.busyTimeoutMs,
    });
    this.#executor = new WriteExecutor(new PreparedCatalogue(db, operations, ['write']));
    if (config.manageWal) {
      this.#timer = setInterval(() => this.wal.idle(), config.checkpointIntervalMs);
      this.#timer.unref();
    }
  }

  /** Opens the file, applies the schema (a no-op when present) and prepares the catalogue. */
  static open(config: WriterConfig): WriterService {
    const db = openWriterConnection(config.path, config);
    try {
      applySchema(db);
      return new WriterService(db, config);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  execute(calls: readonly OperationCall[]): WriteBatchResponse {
    const outcomes = this.#executor.execute(calls);
    return { outcomes, walBytes: this.wal.afterCommit() };
  }

  /** Verifies the database between batches, with the plan of every catalogue statement. */
  check(): CheckReport {
    return checkDatabase(this.db, { operations });
  }

  /** Truncates the WAL and closes the connection. */
  close(): void {
    clearInterval(this.#timer);
    if (!this.db.open) return;
    try {
      this.wal.checkpoint('TRUNCATE');
    } finally {
      this.db.close();
    }
  }
}

export type WriterOpenResult = { ok: true; walPath: string } | { ok: false; error: WireError };

/** The API the writer thread exposes with comlink. Failures come back as data. */
export interface WriterApi {
  open(config: WriterConfig): WriterOpenResult;
  execute(calls: readonly OperationCall[]): WriteBatchResponse;
  check(): CheckReport;
  close(): void;
}

export function createWriterApi(): WriterApi {
  let service: WriterService | undefined;
  const opened = (): WriterService => {
    if (service === undefined) throw new Error('writer is not open');
    return service;
  };
  return {
    open(config) {
      try {
        service = WriterService.open(config);
        return { ok: true, walPath: `${service.db.name}-wal` };
      } catch (error) {
        return { ok: false, error: toWireError(error) };
      }
    },
    execute: (calls) => opened().execute(calls),
    check: () => opened().check(),
    close() {
      service?.close();
      service = undefined;
    },
  };
}
