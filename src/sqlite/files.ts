import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError } from '../api/errors.js';
import { DEFAULT_FILE_MODE } from '../api/options.js';

/**
 * Creates an empty file with exactly `mode`, failing if it exists. The mode is set with
 * fchmod after the open, so the process umask (which open(2) applies, and which a worker
 * thread can neither read safely nor change) neither narrows nor widens it.
 *
 * SQLite then gives the database's `-wal` and `-shm` files the database file's own mode
 * (os_unix.c: findCreateFileMode, and an fchmod after the open, umask or not), so a
 * database created here keeps all three private.
 */
export function createFileWithMode(path: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new StoreError('CONFLICT', `${path} already exists`, { cause: error });
    throw new StoreError('IO_ERROR', `cannot create ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/**
 * The mode of a directory the store creates for its files: the owner's, and read and
 * search wherever the file mode lets the group or others read (0o600 → 0o700, 0o640 →
 * 0o750), so whoever may read the database may reach it. Nobody but the owner may add or
 * remove files there, whatever the file mode lets them write.
 */
export function directoryModeFor(fileMode: number): number {
  const readers = fileMode & 0o044;
  return 0o700 | readers | (readers >> 2);
}

/**
 * Creates the directory a file will live in, with any missing parents, each with exactly
 * `directoryModeFor(fileMode)` (set after mkdir, so the umask neither narrows nor widens
 * it). Directories that already exist are left as they are. A directory that cannot be
 * made (a file in the way, a read-only or denied parent) is IO_ERROR, naming it.
 */
export function createDirectoryFor(file: string, fileMode: number = DEFAULT_FILE_MODE): void {
  const directory = dirname(resolve(file));
  const mode = directoryModeFor(fileMode);
  try {
    const first = mkdirSync(directory, { recursive: true, mode });
    if (first === undefined) return;
    // mkdir returned the first directory it made: set each from the last one up to it.
    for (let path = directory; ; path = dirname(path)) {
      chmodSync(path, mode);
      if (path === first || dirname(path) === path) break;
    }
  } catch (error) {
    throw new StoreError('IO_ERROR', `cannot create directory ${directory} for ${file}: ${(error as Error).message}`, { cause: error });
  }
}
