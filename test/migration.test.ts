import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../src/api/types.js';
import { openWriterConnection } from '../src/sqlite/connection.js';
import { applySchema, migrations, schemaFiles, SCHEMA_VERSION } from '../src/sqlite/schema.js';
import { openInProcessStore } from './helpers/in-process-store.js';
import { tempDbPath } from './helpers/temp.js';
import { createV1Database, v1Ddl, V1_FILES, type V1Session } from './helpers/v1-database.js';

const writerOptions = { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 } as const;

/** Every kind of JSON value an event can be, and the texts version 1 could hold. */
const KINDS: JsonValue[] = [
  true,
  false,
  null,
  0,
  -1.5,
  0.30000000000000004,
  1e300,
  2 ** 53 + 2,
  'plain',
  '',
  'quotes " and \\ backslashes',
  'ünïcødé, 漢字, emoji 🙂, and a NUL \u0000 inside',
  [],
  {},
  [1, '2', [3, { four: 4 }]],
  { role: 'user', text: 'héllo', nested: { list: [true, null, 1.25] } },
];

const v1Sessions = (): V1Session[] => [
  { id: 'empty', events: [] },
  { id: 'five', events: KINDS.slice(0, 5), state: { step: 5, 'user:alice:theme': 'dark' } },
  { id: 'kinds', events: KINDS, status: 'terminated' },
  {
    id: 'long',
    userId: 'bob',
    projectId: 'p1',
    events: Array.from({ length: 300 }, (_, i) => ({ i, text: `événement ${i} 🙂`, even: i % 2 === 0 })),
    state: { notes: 'ünïcødé state', depth: { a: { b: [1, 2, 3] } } },
    metadata: { source: 'v1' },
  },
];

function rawEvents(path: string, id: string): { seq: number; event: string; createdAt: string; eventId: string | null }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare('SELECT seq, event, created_at AS createdAt, event_id AS eventId FROM session_events WHERE session_id = ? ORDER BY seq')
      .all(id) as { seq: number; event: string; createdAt: string; eventId: string | null }[];
  } finally {
    db.close();
  }
}

function userVersion(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe('schema migrations', () => {
  it('keeps the version-1 baseline in sql/ byte for byte as the first release shipped it', () => {
    for (const name of V1_FILES) {
      const shipped = readFileSync(fileURLToPath(new URL(`../sql/${name}`, import.meta.url)), 'utf8');
      expect(shipped, `sql/${name} changed: the baseline is never edited; add a migration instead`).toBe(v1Ddl(name));
    }
  });

  it('moves every version-1 event to session_events on open, in order, nothing lost or duplicated', async () => {
    const path = tempDbPath();
    const sessions = v1Sessions();
    createV1Database(path, sessions);
    const store = await openInProcessStore({ path });
    for (const s of sessions) {
      const session = await store.sessions.get(s.id);
      expect(session?.events, s.id).toStrictEqual(JSON.parse(JSON.stringify(s.events)));
      expect(session).toMatchObject({
        eventCount: s.events.length,
        state: s.state ?? {},
        status: s.status ?? 'active',
        lastUpdateTime: '2026-01-02T03:04:05.678Z',
      });
      // Event by event: seq 1..n, each text the JSON of the same value, stamped with the session's time.
      const rows = rawEvents(path, s.id);
      expect(rows.map((r) => r.seq)).toEqual(s.events.map((_, i) => i + 1));
      rows.forEach((row, i) => {
        expect(JSON.parse(row.event), `${s.id} seq ${row.seq}`).toStrictEqual(JSON.parse(JSON.stringify(s.events[i])));
        expect(row).toMatchObject({ createdAt: '2026-01-02T03:04:05.678Z', eventId: null });
      });
    }
    expect((await store.sessions.get('long', { lastEvents: 2 }))?.events).toEqual([
      { i: 298, text: 'événement 298 🙂', even: true },
      { i: 299, text: 'événement 299 🙂', even: false },
    ]);
    // The log goes on from where version 1 left it.
    expect(await store.sessions.appendEvent('five', { after: 'migration' })).toMatchObject({ eventCount: 6 });
    expect(rawEvents(path, 'five').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const report = await store.check();
    expect(report).toMatchObject({ ok: true, schemaVersion: SCHEMA_VERSION, indexesSatisfied: 33 });
    await store.close();

    const db = new Database(path, { readonly: true });
    const columns = db.prepare("SELECT name FROM pragma_table_info('sessions')").pluck().all();
    expect(columns).not.toContain('events');
    expect(columns).toContain('event_count');
    expect(db.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(5 + KINDS.length + 300 + 1);
    db.close();
  });

  it('runs each migration once: a migrated file opens with nothing to do', () => {
    const path = tempDbPath();
    createV1Database(path, v1Sessions());
    const first = openWriterConnection(path, writerOptions);
    const result = applySchema(first);
    first.close();
    expect(result).toMatchObject({ applied: false, from: 1, version: SCHEMA_VERSION });
    expect(result.migrated.map((m) => m.name)).toEqual(migrations().map((m) => m.name));
    const again = openWriterConnection(path, writerOptions);
    expect(applySchema(again)).toEqual({ applied: false, from: SCHEMA_VERSION, version: SCHEMA_VERSION, migrated: [] });
    expect(again.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(5 + KINDS.length + 300);
    again.close();
  });

  it('keeps the ids of trimmed events from version 5 on: a version-4 file migrates with its events as they were', async () => {
    const path = tempDbPath();
    const db = openWriterConnection(path, writerOptions);
    db.transaction(() => {
      for (const file of schemaFiles()) db.exec(file.sql);
      for (const migration of migrations().filter((m) => m.version <= 4)) db.exec(migration.sql);
      db.pragma('user_version = 4');
    }).immediate();
    db.prepare("INSERT INTO sessions (id, app_name, user_id, event_count) VALUES ('s', 'a', 'u', 3)").run();
    const insert = db.prepare('INSERT INTO session_events (session_id, seq, event_id, event) VALUES (?, ?, ?, ?)');
    insert.run('s', 1, 'e1', '"one"');
    insert.run('s', 2, null, '"two"');
    insert.run('s', 3, 'e3', '"three"');
    db.close();

    const store = await openInProcessStore({ path });
    expect((await store.sessions.get('s'))?.events).toEqual(['one', 'two', 'three']);
    expect(await store.sessions.trimEvents('s', { keepLast: 1 })).toMatchObject({ deleted: 2, firstSeq: 3 });
    expect(await store.sessions.appendEvent('s', 'one again', { eventId: 'e1' })).toMatchObject({ seq: 1, eventCount: 3 });
    expect(await store.check()).toMatchObject({ ok: true, schemaVersion: SCHEMA_VERSION });
    await store.close();
    const after = new Database(path, { readonly: true });
    // One row per trimmed event that had an id; none for the event without one.
    expect(after.prepare('SELECT session_id, event_id, seq FROM session_trimmed_event_ids').all()).toEqual([{ session_id: 's', event_id: 'e1', seq: 1 }]);
    after.close();
  });

  it('leaves a version-1 file exactly as it was when a migration fails midway, and migrates it on the next open', () => {
    const path = tempDbPath();
    createV1Database(path, v1Sessions());
    const before = new Database(path, { readonly: true });
    const rowsBefore = before.prepare('SELECT * FROM sessions ORDER BY id').all();
    const schemaBefore = before.prepare('SELECT sql FROM sqlite_schema ORDER BY name').pluck().all();
    before.close();

    const db = openWriterConnection(path, writerOptions);
    const migration = migrations()[0]!;
    const original = migration.sql;
    // Fails after the events were copied and the column added, before the column is dropped.
    migration.sql = original.replace('ALTER TABLE sessions DROP COLUMN events;', 'INSERT INTO stop_here VALUES (1);');
    try {
      expect(() => applySchema(db)).toThrow(/stop_here/);
    } finally {
      migration.sql = original;
    }
    db.close();

    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(1);
    expect(after.prepare('SELECT * FROM sessions ORDER BY id').all()).toEqual(rowsBefore);
    expect(after.prepare('SELECT sql FROM sqlite_schema ORDER BY name').pluck().all()).toEqual(schemaBefore);
    after.close();

    const retry = openWriterConnection(path, writerOptions);
    expect(applySchema(retry).migrated).toHaveLength(migrations().length);
    retry.close();
    expect(userVersion(path)).toBe(SCHEMA_VERSION);
    expect(rawEvents(path, 'long')).toHaveLength(300);
  });

  it('makes a new file whole or not at all: a failing migration leaves no table behind', () => {
    const path = tempDbPath();
    const db = openWriterConnection(path, writerOptions);
    const migration = migrations()[migrations().length - 1]!;
    const original = migration.sql;
    migration.sql = `${original}\nINSERT INTO stop_here VALUES (1);`;
    try {
      expect(() => applySchema(db)).toThrow(/stop_here/);
    } finally {
      migration.sql = original;
    }
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get()).toBe(0);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
  });
});
