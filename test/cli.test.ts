import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import { lineWriter } from '../src/cli/io.js';
import { packageRoot } from '../src/paths.js';
import { SCHEMA_VERSION } from '../src/sqlite/schema.js';
import { fileHash } from './helpers/files.js';
import { tempDir } from './helpers/temp.js';
import { createV1Database } from './helpers/v1-database.js';

// The command line from the build, for what only a real process shows (its pipes).
const bin = fileURLToPath(new URL('../dist/src/cli/bin.js', import.meta.url));

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
    expect(bad.err).toContain('unknown option --bogus for check; its options: --json, --schema, --help');
    expect(bad.err).not.toContain('did you mean');
    expect(bad.err).toContain('usage: abathur-store check <path> [--json]');
  });

  it('a misspelled option or command is named, with the closest one suggested (and balanced quotes)', async () => {
    const typo = await run('check', 'x.db', '--jsn');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/^abathur-store: unknown option --jsn for check \(did you mean --json\?\)/);
    expect(typo.err.split('\n')[0]!.split("'").length % 2).toBe(1);
    expect((await run('demo', '--sesions', '2')).err).toContain('unknown option --sesions for demo (did you mean --sessions?)');
    expect((await run('migrate', '--form', 'a.db')).err).toContain('(did you mean --from?)');
    expect((await run('chek', 'x.db')).err).toContain('unknown command "chek" (did you mean check?)');
    expect((await run('frobnicate')).err).not.toContain('did you mean');
  });

  it('bench --help explains where the benchmark is and exits 0; bench alone still exits 2', async () => {
    for (const argv of [['bench', '--help'], ['bench', '-h'], ['help', 'bench']]) {
      const help = await run(...argv);
      expect({ code: help.code, err: help.err }, argv.join(' ')).toEqual({ code: 0, err: '' });
      expect(help.out).toContain('usage: abathur-store bench');
      expect(help.out).toContain('npm run bench -- --help');
    }
    const bare = await run('bench');
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('the benchmark is a program of its own');
  });

  it('a URL of another scheme is a usage error (2): no directory named after it, and no password echoed', async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      for (const argv of [
        ['init', 'mysql://root:hunter2@db/app'],
        ['check', 'mysql://root:hunter2@db/app'],
        ['migrate', 'sqlite://store.db'],
        ['migrate', '--from', 'mysql://root:hunter2@db/app', '--to', 'postgres://localhost/x'],
        ['demo', '--path', 'file:///tmp/demo.db'],
      ]) {
        const result = await run(...argv);
        expect(result.code, argv.join(' ')).toBe(2);
        expect(result.err, argv.join(' ')).toMatch(/is a (mysql|sqlite|file):\/\/ URL; it takes a database file path/);
        expect(result.err).not.toContain('hunter2');
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('output piped into a reader that stops early (| head) ends quietly: no EPIPE trace, the command’s own exit code', async () => {
    const path = join(tempDir(), 'store.db');
    await run('init', path);
    const child = spawn(process.execPath, [bin, 'check', path, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the report is written: every write meets a closed pipe.
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  it('lineWriter drops lines after EPIPE and rethrows any other stream error', () => {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const out = lineWriter(stream);
    out('one');
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    out('two');
    expect(written).toEqual(['one\n']);
    const other = new Writable({ write: (_chunk, _encoding, done) => done() });
    lineWriter(other);
    expect(() => other.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });
});
