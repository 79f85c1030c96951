import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store.js';
import { main } from '../src/cli/cli.js';
import { runDemo, type DemoOptions } from '../src/cli/demo.js';
import { fileHash } from './helpers/files.js';
import { tempDir } from './helpers/temp.js';

// The command line from the build, run as `npm start` runs it: from a project's directory.
const bin = fileURLToPath(new URL('../dist/src/cli/bin.js', import.meta.url));

const quick = (path: string): DemoOptions => ({ path, sessions: 2, durationMs: 300, thinkMs: 1, out: () => {}, interactive: false });

/** A user's own store, with a row in it, closed. */
async function usersStore(path: string): Promise<void> {
  const store = await openStore({ path, readers: 1 });
  await store.sessions.create({ appName: 'mine', userId: 'me' });
  await store.close();
}

describe('demo', () => {
  it('runs an orchestrator’s sessions against the store with no errors, and reports', async () => {
    let output = '';
    const result = await runDemo({
      path: join(tempDir(), 'nested', 'demo.db'),
      sessions: 8,
      durationMs: 1500,
      thinkMs: 5,
      out: (text) => (output += `${text}\n`),
      interactive: false,
    });
    expect(result.errors).toBe(0);
    expect(result.checkOk).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.turns).toBeGreaterThan(8);
    for (const op of ['sessions.get', 'memory.context', 'sessions.appendEvent', 'metrics.record']) {
      expect(result.latency[op]?.count).toBeGreaterThan(0);
    }
    expect(output).toContain('8 agent sessions for 1.5 s');
    expect(output).toMatch(/sessions\.get\s+\d+\s+\d+/);
    expect(output).toContain('caller event-loop delay');
    expect(output).toContain('errors: 0');
    // One event per turn, counted by the store, shown per session.
    expect(result.eventCounts).toHaveLength(8);
    for (const { turns, eventCount } of result.eventCounts) expect(eventCount).toBe(turns);
    expect(output).toMatch(/eventCount per session \(\d+ events in 8 sessions/);
    const first = result.eventCounts[0]!;
    expect(output).toContain(`${first.sessionId.slice(0, 8)} ${String(first.eventCount).padStart(4)}`);
    expect(output).toContain('33 of 33 satisfied');
    expect(output).toMatch(/result: ok$/m);
  });

  it('is the CLI’s demo command, which exits 0 when all went well', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t), interactive: false };
    const path = join(tempDir(), 'demo.db');
    expect(await main(['demo', '--path', path, '--sessions', '2', '--duration', '0.5', '--think', '1'], io)).toBe(0);
    expect(output).toContain('2 sessions');
    expect(await main(['demo', '--sessions', 'many'], io)).toBe(2);
  });

  it('never writes into a database holding data it did not write: refused INVALID_STATE, the file unchanged', async () => {
    const path = join(tempDir(), 'mine.db');
    await usersStore(path);
    const hash = fileHash(path);
    await expect(runDemo(quick(path))).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining(`${path} holds data the demo did not write`),
    });
    let err = '';
    expect(await main(['demo', '--path', path, '--duration', '0.2'], { out: () => {}, err: (t) => (err += t) })).toBe(1);
    expect(err).toContain('INVALID_STATE');
    expect(err).toContain('./data/abathur-demo.db');
    expect(fileHash(path)).toBe(hash);
  });

  it('runs again on its own database, and on an empty file', async () => {
    const path = join(tempDir(), 'demo.db');
    writeFileSync(path, '');
    expect((await runDemo(quick(path))).ok).toBe(true);
    expect((await runDemo(quick(path))).ok).toBe(true);
  });

  it('npm start (demo without --path) writes ./data/abathur-demo.db and leaves ./data/abathur.db alone', async () => {
    const project = tempDir();
    mkdirSync(join(project, 'data'));
    const users = join(project, 'data', 'abathur.db');
    await usersStore(users);
    const hash = fileHash(users);
    const demo = spawnSync(process.execPath, [bin, 'demo', '--sessions', '2', '--duration', '0.3', '--think', '1'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain(join(project, 'data', 'abathur-demo.db'));
    expect(existsSync(join(project, 'data', 'abathur-demo.db'))).toBe(true);
    expect(fileHash(users)).toBe(hash);
  });
});
