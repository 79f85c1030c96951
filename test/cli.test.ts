import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { packageRoot } from '../src/paths.js';
import { SCHEMA_VERSION } from '../src/sqlite/schema.js';
import { fileHash } from './helpers/files.js';
import { tempDir } from './helpers/temp.js';
import { createV1Database } from './helpers/v1-database.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe('abathur-store CLI', () => {
  it('init creates the directory and the database, and is a no-op the second time', async () => {
    const path = join(tempDir(), 'nested', 'dir', 'store.db');
    const first = await run('init', path);
    expect(first).toEqual({ code: 0, out: `initialised ${path} (schema version ${SCHEMA_VERSION})\n`, err: '' });
    expect(existsSync(path)).toBe(true);
    const hash = fileHash(path);
    const second = await run('init', path);
    expect(second.out).toBe(`${path} is already at schema version ${SCHEMA_VERSION}\n`);
    expect(fileHash(path)).toBe(hash);
  });

  it('check reports a fresh database as sound and exits 0', async () => {
    const path = join(tempDir(), 'store.db');
    await run('init', path);
    const hash = fileHash(path);
    const { code, out } = await run('check', path);
    expect(code).toBe(0);
    expect(out).toContain('ok   integrity_check: ok');
    expect(out).toContain('ok   foreign_key_check: no violations');
    expect(out).toContain('ok   index requirements: 33 of 33 satisfied');
    expect(out).toContain('result: ok');
    expect(fileHash(path)).toBe(hash);
  });

  it('check --json prints the structured report', async () => {
    const path = join(tempDir(), 'store.db');
    await run('init', path);
    const { code, out } = await run('check', path, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as { ok: boolean; indexesSatisfied: number; indexes: unknown[]; plans: unknown[] };
    expect(report.ok).toBe(true);
    expect(report.indexesSatisfied).toBe(33);
    expect(report.indexes).toHaveLength(33);
    expect(report.plans.length).toBeGreaterThan(10);
  });

  it('check exits 1 and names the index when one was dropped', async () => {
    const path = join(tempDir(), 'store.db');
    await run('init', path);
    const db = new Database(path);
    db.exec('DROP INDEX idx_memory_episodic_ttl');
    db.close();
    const { code, out } = await run('check', path);
    expect(code).toBe(1);
    expect(out).toContain('FAIL index requirements: 32 of 33 satisfied');
    expect(out).toContain('FAIL idx_memory_episodic_ttl: missing');
    expect(out).toContain('result: FAILED');
  });

  it('check exits 1 with a typed error for a missing or foreign file', async () => {
    const dir = tempDir();
    const missing = await run('check', join(dir, 'nope.db'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/IO_ERROR: cannot open database .*nope\.db: file does not exist/);
  });

  it('migrate upgrades a version-1 file, says what it did, and then has nothing to do', async () => {
    const path = join(tempDir(), 'v1.db');
    createV1Database(path, [
      { id: 'a', events: [{ n: 1 }, { n: 2 }] },
      { id: 'b', events: ['x', 'y', 'z'] },
      { id: 'c', events: [] },
    ]);
    const old = await run('check', path);
    expect(old.code).toBe(1);
    expect(old.out).toContain(`FAIL schema version: 1 (expected ${SCHEMA_VERSION}; abathur-store migrate upgrades it)`);
    const { code, out, err } = await run('migrate', path);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(new RegExp(`^migrated .*v1\\.db from schema version 1 to ${SCHEMA_VERSION} in [\\d.]+ s`));
    expect(out).toMatch(/ {2}002_session_events\.sql \(version 2\): [\d,]+ ms/);
    expect(out).toContain('new table session_events: 5 rows');
    expect((await run('check', path)).code).toBe(0);
    const hash = fileHash(path);
    expect((await run('migrate', path)).out).toBe(`${path} is already at schema version ${SCHEMA_VERSION}; nothing to do\n`);
    expect(fileHash(path)).toBe(hash);
  });

  it('migrate refuses a missing file (creating nothing) and a newer one', async () => {
    const dir = tempDir();
    const missing = await run('migrate', join(dir, 'nope.db'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/IO_ERROR: cannot migrate .*nope\.db: file does not exist/);
    expect(existsSync(join(dir, 'nope.db'))).toBe(false);
    const newer = join(dir, 'newer.db');
    const db = new Database(newer);
    db.exec('CREATE TABLE future (x)');
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const refused = await run('migrate', newer);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`INVALID_STATE: database ${newer} has schema version ${SCHEMA_VERSION + 1}, newer than`);
    expect((await run('migrate')).code).toBe(2);
  });

  it('usage errors exit 2 with the usage text', async () => {
    expect((await run()).code).toBe(2);
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command "frobnicate"');
    expect(unknown.err).toContain('usage: abathur-store');
    expect((await run('check')).code).toBe(2);
    expect((await run('init', 'a.db', 'b.db')).code).toBe(2);
    expect((await run('check', 'x.db', '--bogus')).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('init <path|url>');
  });

  it('without a command prints the usage to stderr and exits 2', async () => {
    const none = await run();
    expect(none).toMatchObject({ code: 2, out: '' });
    expect(none.err).toContain('usage: abathur-store <command>');
    expect(none.err).toContain('exit codes: 0 ok, 1');
  });

  it('--version and -v print the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    expect(await run('--version')).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect(await run('-v')).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });

  it('--help, -h and help print the usage with the exit codes, and exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const help = await run(flag);
      expect(help.code).toBe(0);
      expect(help.out).toContain('usage: abathur-store <command> [options]');
      expect(help.out).toContain('2 usage error');
      expect(help.err).toBe('');
    }
  });

  it('each command explains itself with --help (or help <command>) and exits 0, touching nothing', async () => {
    const dir = tempDir();
    for (const [command, marker] of [['init', 'owner-only'], ['check', '--json'], ['demo', '--sessions N']] as const) {
      for (const argv of [[command, '--help'], [command, '-h'], ['help', command], [command, join(dir, 'x.db'), '--help']]) {
        const result = await run(...argv);
        expect(result.code, argv.join(' ')).toBe(0);
        expect(result.out).toContain(`usage: abathur-store ${command}`);
        expect(result.out).toContain(marker);
      }
    }
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
  });

  it("a bad option prints the command's own help with the error and exits 2", async () => {
    const bad = await run('check', 'x.db', '--bogus');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Unknown option '--bogus'");
    expect(bad.err).toContain('usage: abathur-store check <path> [--json]');
  });
});
