import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError, toWireError } from '../api/errors.js';
import type { Synchronous } from '../api/types.js';
import { DEFAULT_FILE_MODE } from '../api/options.js';
import { createFileWithMode } from './files.js';

export type Connection = Database.Database;
export type { Synchronous };

export interface WriterConnectionOptions {
  synchronous: Synchronous;
  busyTimeoutMs: number;
  /** Bytes the WAL file is truncated back to after a checkpoint resets it. */
  journalSizeLimit: number;
  /** Mode of a database file created here (and so of its -wal and -shm). Default 0o600. */
  fileMode?: number;
}

const SQLITE_HEADER = 'SQLite format 3\0';

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses paths SQLite cannot use before SQLite touches them, so the error names the
 * file and says why, and nothing is created or changed on the way. The writer also
 * needs the directory writable: WAL mode keeps its -wal and -shm files beside the
 * database.
 */
function assertUsablePath(path: string, access: 'read' | 'write'): 'exists' | 'missing' {
  const mustExist = access === 'read';
  const directory = dirname(path);
  let dirStat;
  try {
    dirStat = statSync(directory);
  } catch {
    throw new StoreError('IO_ERROR', `cannot open database ${path}: directory ${directory} does not exist`, {
      sqliteCode: 'SQLITE_CANTOPEN',
    });
  }
  if (!dirStat.isDirectory()) {
    throw new StoreError('IO_ERROR', `cannot open database ${path}: ${directory} is not a directory`, {
      sqliteCode: 'SQLITE_CANTOPEN',
    });
  }
  if (access === 'write' && !writable(directory)) {
    throw new StoreError('IO_ERROR', `cannot open database ${path}: directory ${directory} is not writable`, {
      sqliteCode: 'SQLITE_READONLY',
    });
  }
  let fileStat;
  try {
    fileStat = statSync(path);
  } catch {
    if (mustExist) {
      throw new StoreError('IO_ERROR', `cannot open database ${path}: file does not exist`, {
        sqliteCode: 'SQLITE_CANTOPEN',
      });
    }
    return 'missing';
  }
  if (!fileStat.isFile()) {
    throw new StoreError('IO_ERROR', `cannot open database ${path}: not a regular file`, {
      sqliteCode: 'SQLITE_CANTOPEN',
    });
  }
  if (access === 'write' && !writable(path)) {
    throw new StoreError('IO_ERROR', `cannot open database ${path}: the file is read-only`, {
      sqliteCode: 'SQLITE_READONLY',
    });
  }
  if (fileStat.size === 0) return 'exists';
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (read < header.length || header.toString('latin1') !== SQLITE_HEADER) {
    throw new StoreError('CORRUPT', `cannot open database ${path}: file is not a SQLite database`, {
      sqliteCode: 'SQLITE_NOTADB',
    });
  }
  return 'exists';
}

/** Rethrows a SQLite failure as a StoreError that names the file. */
function withPath(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const wire = toWireError(error);
  return new StoreError(
    wire.code,
    `cannot open database ${path}: ${wire.message}`,
    wire.sqliteCode === undefined ? { cause: error } : { sqliteCode: wire.sqliteCode, cause: error },
  );
}

/**
 * Opens the one read-write connection. Reads the header and schema first, and only then
 * switches to WAL and sets the pragmas, so a file that is not ours is refused unchanged.
 * A missing file is created first with `fileMode` (owner-only by default): SQLite would
 * create it 0644 less the umask, readable by everyone on the machine.
 */
export function openWriterConnection(path: string, options: WriterConnectionOptions): Connection {
  const file = resolve(path);
  if (assertUsablePath(file, 'write') === 'missing') {
    try {
      createFileWithMode(file, options.fileMode ?? DEFAULT_FILE_MODE);
    } catch (error) {
      // Created meanwhile by someone else: open theirs, as SQLite would have.
      if (!(error instanceof StoreError && error.code === 'CONFLICT')) throw error;
    }
  }
  let db: Connection | undefined;
  try {
    db = new Database(file);
    // Forces SQLite to read and validate the header before anything is written.
    db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`journal_size_limit = ${Math.trunc(options.journalSizeLimit)}`);
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (error) {
    db?.close();
    throw withPath(file, error);
  }
}

/** Switches to WAL. Called once the schema check has accepted the file. */
export function enableWal(db: Connection): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw new StoreError('IO_ERROR', `cannot open database ${db.name}: journal mode stayed ${String(mode)}, not wal`);
  }
}

/** Opens a read-only connection for a reader worker; the writer has already set up the file. */
export function openReaderConnection(path: string, busyTimeoutMs: number): Connection {
  const file = resolve(path);
  assertUsablePath(file, 'read');
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    return db;
  } catch (error) {
    throw withPath(file, error);
  }
}
