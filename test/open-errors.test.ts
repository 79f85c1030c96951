import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openReaderConnection, openWriterConnection } from '../src/sqlite/connection.js';
import { applySchema, SCHEMA_VERSION } from '../src/sqlite/schema.js';
import { fileHash, siblings } from './helpers/files.js';
import { withTmpfs } from './helpers/mounts.js';
import { tempDbPath, tempDir } from './helpers/temp.js';

const writerOptions = { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 } as const;

/** Opens for writing and applies the schema, as the writer thread does. */
function openAndApply(path: string): void {
  const db = openWriterConnection(path, writerOptions);
  try {
    applySchema(db);
  } finally {
    db.close();
  }
}

/** A closed, valid store database with some rows. */
function realDatabase(path: string): void {
  const db = openWriterConnection(path, writerOptions);
  applySchema(db);
  const insert = db.prepare('INSERT INTO sessions (id, app_name, user_id, state) VALUES (?, ?, ?, ?)');
  for (let i = 0; i < 200; i++) insert.run(`s${i}`, 'app', 'user', JSON.stringify({ filler: 'x'.repeat(200) }));
  db.close();
}

/** Asserts the open fails with `code`, naming the file, and changes nothing on disk. */
function expectRefused(path: string, code: string, open: (path: string) => void = openAndApply): void {
  const hash = fileHash(path);
  const files = siblings(path);
  expect(() => open(path)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(path) }));
  expect(fileHash(path)).toBe(hash);
  expect(siblings(path)).toEqual(files);
}

describe('opening bad files and paths', () => {
  it('refuses a file that is not a SQLite database', () => {
    const path = tempDbPath('garbage.db');
    writeFileSync(path, randomBytes(8192));
    expectRefused(path, 'CORRUPT');
  });

  it('refuses a text file', () => {
    const path = tempDbPath('notes.db');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(50));
    expectRefused(path, 'CORRUPT');
  });

  it('refuses a database truncated inside its header', () => {
    const source = tempDbPath('source.db');
    realDatabase(source);
    const path = join(tempDir(), 'truncated.db');
    writeFileSync(path, readFileSync(source).subarray(0, 10));
    expectRefused(path, 'CORRUPT');
  });

  it('refuses a database truncated to part of its pages', () => {
    const source = tempDbPath('source.db');
    realDatabase(source);
    const path = join(tempDir(), 'truncated.db');
    const bytes = readFileSync(source);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const hash = fileHash(path);
    // SQLite may only notice the damage when it reads a missing page; the open or the
    // first check must fail, and the file stays as it was either way.
    let refused: boolean;
    try {
      openAndApply(path);
      const db = openReaderConnection(path, 1000);
      try {
        refused = db.pragma('integrity_check', { simple: true }) !== 'ok';
      } finally {
        db.close();
      }
    } catch (error) {
      refused = ['CORRUPT', 'IO_ERROR'].includes((error as { code: string }).code);
    }
    expect(refused).toBe(true);
    expect(fileHash(path)).toBe(hash);
  });

  it('refuses a path that is a directory', () => {
    const path = join(tempDir(), 'a-directory.db');
    mkdirSync(path);
    expectRefused(path, 'IO_ERROR');
  });

  it('refuses a path whose directory is missing, and does not create it', () => {
    const path = join(tempDir(), 'missing', 'deeper', 'store.db');
    expectRefused(path, 'IO_ERROR');
    expect(existsSync(join(path, '..'))).toBe(false);
  });

  it('refuses to open a missing file for reading', () => {
    const path = tempDbPath('absent.db');
    expectRefused(path, 'IO_ERROR', (p) => openReaderConnection(p, 1000));
  });

  it('opens an empty file as a new database', () => {
    const path = tempDbPath('empty.db');
    writeFileSync(path, '');
    openAndApply(path);
    const db = openReaderConnection(path, 1000);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  describe('on a read-only file system', () => {
    it('refuses a new database in a read-only directory, and an existing one, unchanged', (context) =>
      withTmpfs(context, 4 << 20, (mount) => {
        const existing = join(mount.dir, 'existing.db');
        realDatabase(existing);
        mount.remount('ro');
        expectRefused(join(mount.dir, 'new.db'), 'IO_ERROR');
        expectRefused(existing, 'IO_ERROR');
      }));
  });

  it('reopens a copied database (the refusals are not false alarms)', () => {
    const source = tempDbPath('source.db');
    realDatabase(source);
    const copy = join(tempDir(), 'copy.db');
    copyFileSync(source, copy);
    openAndApply(copy);
    const db = openReaderConnection(copy, 1000);
    expect(db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(200);
    db.close();
  });
});
