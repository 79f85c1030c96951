import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { applySchema, openWriterConnection } from '../src/internal.js';

export interface SeedOptions {
  /** Sessions (each with a user, an app and a project). */
  sessions: number;
  /** Memory entries per scope (session, user, app, project). */
  memoryPerScope: number;
  /** Pending tasks to claim. */
  tasks: number;
  synchronous?: 'normal' | 'full';
}

/** What a workload needs to address the seeded rows. */
export interface SeedInfo {
  path: string;
  /** Sessions seeded; the i-th has id `sessionIdOf(i)`. */
  sessions: number;
  users: number;
  apps: number;
  projects: number;
  memoryPerScope: number;
}

export const sessionIdOf = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
export const userOf = (i: number, users: number): string => `user${i % users}`;
export const appOf = (i: number, apps: number): string => `app${i % apps}`;
export const projectOf = (i: number, projects: number): string => `project${i % projects}`;

/**
 * A fresh database with the schema and a realistic spread of rows, written directly
 * (bulk, one transaction) so seeding costs seconds, not minutes. Session rows are about
 * 300 bytes, as in DESIGN §7's point-read figures.
 */
export function seedDatabase(path: string, options: SeedOptions): SeedInfo {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  const db = openWriterConnection(path, {
    synchronous: options.synchronous ?? 'normal',
    busyTimeoutMs: 5000,
    journalSizeLimit: 8 << 20,
  });
  applySchema(db);
  const users = Math.max(1, Math.floor(options.sessions / 4));
  const apps = 4;
  const projects = Math.max(1, Math.floor(options.sessions / 16));
  const sessionIds: string[] = [];
  db.transaction(() => {
    const session = db.prepare(
      "INSERT INTO sessions (id, app_name, user_id, project_id, status, event_count, state, metadata) VALUES (?, ?, ?, ?, 'active', 1, ?, ?)",
    );
    const event = db.prepare('INSERT INTO session_events (session_id, seq, event) VALUES (?, 1, ?)');
    for (let i = 0; i < options.sessions; i++) {
      const id = sessionIdOf(i);
      sessionIds.push(id);
      session.run(
        id,
        appOf(i, apps),
        userOf(i, users),
        projectOf(i, projects),
        JSON.stringify({ step: i, mood: 'curious', 'user:theme': 'dark' }),
        JSON.stringify({ source: 'bench', tier: 'pro' }),
      );
      event.run(id, JSON.stringify({ role: 'user', text: 'hello' }));
    }
    const memory = db.prepare(
      "INSERT INTO memory_entries (namespace, key, value, memory_type, created_by) VALUES (?, ?, ?, 'semantic', 'seed')",
    );
    const scopes = [
      ...sessionIds.map((id) => `session:${id}`),
      ...Array.from({ length: users }, (_, i) => `user:user${i}`),
      ...Array.from({ length: apps }, (_, i) => `app:app${i}`),
      ...Array.from({ length: projects }, (_, i) => `project:project${i}`),
    ];
    for (const scope of scopes) {
      for (let k = 0; k < options.memoryPerScope; k++) {
        memory.run(scope, `key${k}`, JSON.stringify({ fact: `fact ${k} of ${scope}`, weight: k }));
      }
    }
    const task = db.prepare('INSERT INTO tasks (id, prompt, input_data, priority, session_id) VALUES (?, ?, ?, ?, ?)');
    for (let i = 0; i < options.tasks; i++) {
      task.run(`task${i}`, `task ${i}`, JSON.stringify({ n: i }), 1 + (i % 10), sessionIds[i % sessionIds.length]);
    }
  })();
  db.exec('ANALYZE');
  db.close();
  return { path, sessions: options.sessions, users, apps, projects, memoryPerScope: options.memoryPerScope };
}

/** Seeds a template database once in `dir`; every trial runs on a fresh copy of it. */
export function seedTemplate(dir: string, sessions: number): SeedInfo {
  return seedDatabase(join(dir, 'template.db'), { sessions, memoryPerScope: 10, tasks: 50_000 });
}
