import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonObject, JsonValue } from '../../src/api/types.js';

/**
 * The version-1 DDL, frozen: byte-for-byte copies of sql/001–003 as the first release
 * shipped them, kept in test/fixtures/schema-v1/. A version-1 file is made from these with
 * plain better-sqlite3, never through the library's own schema code, so a migration test
 * cannot pass because the code under test also made its input. (test/migration.test.ts
 * checks that the baseline files in sql/ still equal these copies.)
 */
export const V1_FILES = ['001_memory_tables.sql', '002_core_tables.sql', '003_indexes.sql'] as const;

export const v1Ddl = (name: (typeof V1_FILES)[number]): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/schema-v1/${name}`, import.meta.url)), 'utf8');

export interface V1Session {
  id: string;
  appName?: string;
  userId?: string;
  projectId?: string | null;
  status?: string;
  events: readonly JsonValue[];
  state?: JsonObject;
  metadata?: JsonObject;
}

/**
 * A database exactly as the first release left it: WAL, the version-1 schema, user_version
 * 1, and the given sessions with their events as the JSON array version 1 kept in
 * sessions.events (JSON.stringify writes it as json_insert did: minified).
 */
export function createV1Database(path: string, sessions: readonly V1Session[]): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      for (const name of V1_FILES) db.exec(v1Ddl(name));
      db.pragma('user_version = 1');
      const insert = db.prepare(
        'INSERT INTO sessions (id, app_name, user_id, project_id, status, events, state, metadata, last_update_time) ' +
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '2026-01-02T03:04:05.678Z')",
      );
      for (const s of sessions) {
        insert.run(
          s.id,
          s.appName ?? 'app',
          s.userId ?? 'user',
          s.projectId ?? null,
          s.status ?? 'active',
          JSON.stringify(s.events),
          JSON.stringify(s.state ?? {}),
          JSON.stringify(s.metadata ?? {}),
        );
      }
    })();
  } finally {
    db.close();
  }
}
