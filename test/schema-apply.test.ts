import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openWriterConnection } from '../src/sqlite/connection.js';
import { applySchema, migrations, SCHEMA_VERSION, schemaFiles } from '../src/sqlite/schema.js';
import { freshDatabase } from './helpers/database.js';
import { fileHash, siblings } from './helpers/files.js';
import { tempDbPath } from './helpers/temp.js';

const writerOptions = { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 } as const;

describe('schema apply', () => {
  it('runs the three DDL files in the seed order: memory tables, core tables, indexes', () => {
    expect(schemaFiles().map((f) => f.name)).toEqual(['001_memory_tables.sql', '002_core_tables.sql', '003_indexes.sql']);
  });

  it('then the migrations, numbered from 002 without gaps; the last one is the schema version', () => {
    const list = migrations();
    expect(list[0]).toMatchObject({ name: '002_session_events.sql', version: 2 });
    expect(list.map((m) => m.version)).toEqual(list.map((_, i) => i + 2));
    expect(SCHEMA_VERSION).toBe(list[list.length - 1]!.version);
  });

  it('creates every table and records the version', () => {
    const db = freshDatabase();
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual([
      'adk_app_states',
      'adk_memory_fts',
      'adk_memory_fts_config',
      'adk_memory_fts_data',
      'adk_memory_fts_docsize',
      'adk_memory_fts_idx',
      'adk_sessions',
      'adk_user_states',
      'agents',
      'audit',
      'checkpoints',
      'document_index',
      'lg_checkpoint_blobs',
      'lg_checkpoint_writes',
      'lg_checkpoints',
      'lg_store',
      'lg_store_vectors',
      'memory_entries',
      'metrics',
      'session_events',
      'session_trimmed_event_ids',
      'sessions',
      'state',
      'tasks',
    ]);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('leaves the connection in WAL with foreign keys on, NORMAL sync and a busy timeout', () => {
    const db = freshDatabase();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('journal_size_limit', { simple: true })).toBe(8 << 20);
  });

  it('sets synchronous FULL when asked', () => {
    const db = openWriterConnection(tempDbPath(), { ...writerOptions, synchronous: 'full' });
    applySchema(db);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  it('passes integrity_check and foreign_key_check after apply', () => {
    const db = freshDatabase();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });

  it('is a no-op on a database already at this version', () => {
    const path = tempDbPath();
    const first = openWriterConnection(path, writerOptions);
    expect(applySchema(first)).toMatchObject({
      applied: true,
      from: 0,
      version: SCHEMA_VERSION,
      migrated: migrations().map((m) => ({ name: m.name, version: m.version, ms: expect.any(Number) })),
    });
    first.prepare("INSERT INTO sessions (id, app_name, user_id) VALUES ('s', 'a', 'u')").run();
    first.close();
    const before = fileHash(path);
    const again = openWriterConnection(path, writerOptions);
    const schemaBefore = again.prepare('SELECT sql FROM sqlite_schema ORDER BY name').pluck().all();
    expect(applySchema(again)).toEqual({ applied: false, from: SCHEMA_VERSION, version: SCHEMA_VERSION, migrated: [] });
    expect(again.prepare('SELECT sql FROM sqlite_schema ORDER BY name').pluck().all()).toEqual(schemaBefore);
    expect(again.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(1);
    again.close();
    expect(fileHash(path)).toBe(before);
  });

  it('applies all three files in one transaction: a failure leaves no table behind', () => {
    const path = tempDbPath();
    const db = openWriterConnection(path, writerOptions);
    // A table named like one of ours makes the memory-table DDL fail midway... but a
    // foreign table is refused before any DDL runs, so fail inside the transaction instead.
    db.exec('CREATE TEMP TABLE guard (x)');
    db.exec("CREATE TEMP TRIGGER stop BEFORE INSERT ON guard BEGIN SELECT RAISE(ABORT, 'stop'); END");
    const files = schemaFiles();
    const original = files[2]!.sql;
    files[2]!.sql = `${original}\nINSERT INTO temp.guard VALUES (1);`;
    try {
      expect(() => applySchema(db)).toThrow(/stop/);
    } finally {
      files[2]!.sql = original;
    }
    expect(db.prepare("SELECT count(*) FROM main.sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get()).toBe(0);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
  });

  it('refuses a database with a newer schema version and leaves it unchanged', () => {
    const path = tempDbPath();
    const other = new Database(path);
    other.pragma('journal_mode = WAL');
    other.exec('CREATE TABLE future (x)');
    other.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    other.close();
    const before = fileHash(path);
    const files = siblings(path);
    const db = openWriterConnection(path, writerOptions);
    expect(() => applySchema(db)).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE', message: expect.stringContaining(path) }),
    );
    db.close();
    expect(fileHash(path)).toBe(before);
    expect(siblings(path)).toEqual(files);
  });

  it("refuses another application's database and leaves it unchanged", () => {
    const path = tempDbPath();
    const other = new Database(path);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    other.close();
    const before = fileHash(path);
    const db = openWriterConnection(path, writerOptions);
    expect(() => applySchema(db)).toThrow(expect.objectContaining({ code: 'INVALID_STATE', message: expect.stringMatching(/invoices|tables/) }));
    db.close();
    expect(fileHash(path)).toBe(before);
  });
});
