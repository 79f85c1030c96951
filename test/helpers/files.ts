import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** SHA-256 of a file, to prove it was left byte for byte as it was ('absent' or 'directory' otherwise). */
export function fileHash(path: string): string {
  if (!existsSync(path)) return 'absent';
  if (statSync(path).isDirectory()) return 'directory';
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The directory's entries, to prove nothing (no -wal, no -shm) was created beside a file. */
export function siblings(path: string): string[] {
  return existsSync(dirname(path)) ? readdirSync(dirname(path)).sort() : [];
}
