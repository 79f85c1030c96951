import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StoreError, toWireError, type WireError } from '../api/errors.js';
import { BACKUP_INTO } from '../catalogue/admin.js';
import { openReaderConnection } from './connection.js';
import { createFileWithMode } from './files.js';

// A backup is made in two steps. The copy (copySnapshot) runs off the caller's thread, on
// a read-only connection of its own, into a temporary file beside the destination; only
// when that file is whole and synced does publish give it the destination's name, in one
// step that fails if the name is taken. So the destination is the whole copy or nothing:
// a copy that fails, or a thread that dies mid-copy, leaves at most the temporary file,
// which the caller removes.

/** What the copying thread is given. */
export interface SnapshotJob {
  /** The store's database file. */
  source: string;
  /** The temporary file to create and copy into. */
  temp: string;
  /** The store's fileMode, which the copy keeps. */
  mode: number;
  busyTimeoutMs: number;
}

export type SnapshotOutcome = { ok: true } | { ok: false; error: WireError };

/**
 * A new name in the destination's directory (a rename or a link only stays atomic within
 * one file system), hidden and unique across processes: `.copy.db.3f9a0c1d2e4b.tmp`.
 */
export function tempPathFor(destination: string): string {
  return join(dirname(destination), `.${basename(destination)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Copies one consistent snapshot of `job.source` into the new file `job.temp`, created
 * with the store's file mode, and syncs it: SQLite does not sync a VACUUM INTO copy. On
 * failure the temporary file is removed and the error thrown.
 */
export function copySnapshot(job: SnapshotJob): void {
  // VACUUM INTO accepts an empty file: creating it first gives the copy the store's file
  // mode (owner-only by default) rather than SQLite's 0644 less the umask.
  createFileWithMode(job.temp, job.mode);
  try {
    const db = openReaderConnection(job.source, job.busyTimeoutMs);
    try {
      db.prepare(BACKUP_INTO).run(job.temp);
    } finally {
      db.close();
    }
    syncFile(job.temp);
  } catch (error) {
    rmSync(job.temp, { force: true });
    throw error;
  }
}

/** {@link copySnapshot} with its failure as data, as the copying thread answers. */
export function snapshotOutcome(job: SnapshotJob): SnapshotOutcome {
  try {
    copySnapshot(job);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: toWireError(error) };
  }
}

/** The file-system calls {@link publish} makes; tests replace them to stage what another process would do. */
export interface PublishCalls {
  link(existing: string, name: string): void;
  rename(from: string, to: string): void;
  exists(path: string): boolean;
}

const FILE_SYSTEM: PublishCalls = {
  link: linkSync,
  rename: renameSync,
  exists: (path) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  },
};

/** Errors of a file system that has no hard links (FAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * Gives the whole copy `temp` the name `destination`, unless that name is taken: then it
 * rejects CONFLICT and removes `temp`. A hard link claims the name atomically (link(2) never
 * replaces a file, so of two backups to one path exactly one wins, in one process or
 * several); the temporary name is then dropped. Where the file system has no hard links, a
 * rename after a check that the name is free: a narrower guarantee, as another process
 * could take the name between the two.
 */
export function publish(temp: string, destination: string, fs: PublishCalls = FILE_SYSTEM): void {
  try {
    try {
      fs.link(temp, destination);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!NO_HARD_LINKS.has(code)) throw error;
      if (fs.exists(destination)) throw Object.assign(new Error(`${destination} exists`), { code: 'EEXIST' });
      fs.rename(temp, destination);
    }
  } catch (error) {
    rmSync(temp, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new StoreError('CONFLICT', `backup destination ${destination} already exists; nothing was written to it`, { cause: error });
    }
    throw new StoreError('IO_ERROR', `cannot name the backup ${destination}: ${(error as Error).message}`, { cause: error });
  }
  rmSync(temp, { force: true });
  syncDirectory(dirname(destination));
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes the new name durable. Some platforms cannot open or sync a directory; the copy itself is synced already. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR where directories cannot be synced.
  } finally {
    closeSync(fd);
  }
}
