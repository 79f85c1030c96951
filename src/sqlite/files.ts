import { closeSync, fchmodSync, openSync } from 'node:fs';
import { StoreError } from '../api/errors.js';

/** Owner read and write only: the store holds agents' memory and users' data. */
export const DEFAULT_FILE_MODE = 0o600;

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
