import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../src/sqlite/schema.js';
import { openInProcessStore } from './helpers/in-process-store.js';
import { tempDbPath } from './helpers/temp.js';
import { createV1Database, type V1Session } from './helpers/v1-database.js';

// The command line from the build: the migration runs in a child process that can be killed.
const bin = fileURLToPath(new URL('../dist/src/cli/bin.js', import.meta.url));

/** Everything version 1 keeps about its sessions, hashed. */
function sessionsHash(db: Database.Database): string {
  const hash = createHash('sha256');
  for (const row of db.prepare('SELECT * FROM sessions ORDER BY id').raw().iterate()) hash.update(JSON.stringify(row));
  return hash.digest('hex');
}

/**
 * Runs `abathur-store migrate` on `path` and SIGKILLs it once the WAL passes `killAtBytes`.
 * The migration is one transaction: pages it writes before COMMIT spill into the WAL
 * uncommitted, so a WAL of a few MiB on the way to the ~50 MiB the whole step writes is
 * proof the kill landed inside it.
 */
function migrateAndKill(path: string, killAtBytes: number): Promise<{ signal: NodeJS.Signals | null; walAtKill: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'migrate', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let walAtKill = 0;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const poll = setInterval(() => {
      const wal = `${path}-wal`;
      const size = existsSync(wal) ? statSync(wal).size : 0;
      if (size > killAtBytes && walAtKill === 0) {
        walAtKill = size;
        child.kill('SIGKILL');
      }
    }, 1);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      resolve({ signal, walAtKill, stderr });
    });
  });
}

describe('migration crash (kill -9)', () => {
  it('leaves a large version-1 file whole when killed mid-migration; the next open migrates it', { timeout: 180_000 }, async () => {
    const path = tempDbPath();
    const text = 'x'.repeat(1000);
    const sessions: V1Session[] = Array.from({ length: 40 }, (_, s) => ({
      id: `big-${s}`,
      events: Array.from({ length: 1000 }, (_, i) => ({ s, i, text })),
      state: { s },
    }));
    sessions.push({ id: 'small', events: ['a', 'b'] }, { id: 'none', events: [] });
    createV1Database(path, sessions);
    const before = new Database(path);
    const hashBefore = sessionsHash(before);
    before.close();

    const killed = await migrateAndKill(path, 4 << 20);
    expect(killed.signal, `the migration finished before it could be killed: ${killed.stderr}`).toBe('SIGKILL');
    expect(killed.walAtKill).toBeGreaterThan(4 << 20);

    // Recovery drops the uncommitted frames: version 1, exactly as it was.
    const after = new Database(path);
    expect(after.pragma('user_version', { simple: true })).toBe(1);
    expect(after.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'session_events'").pluck().get()).toBe(0);
    expect(sessionsHash(after)).toBe(hashBefore);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();

    // A clean open migrates it, every event in order.
    const store = openInProcessStore({ path });
    for (const s of [sessions[0]!, sessions[39]!, sessions[40]!, sessions[41]!]) {
      const session = await store.sessions.get(s.id);
      expect(session?.eventCount).toBe(s.events.length);
      expect(session?.events, s.id).toEqual(s.events);
    }
    const report = await store.check();
    expect(report).toMatchObject({ ok: true, schemaVersion: SCHEMA_VERSION });
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(40 * 1000 + 2);
    db.close();
  });
});
