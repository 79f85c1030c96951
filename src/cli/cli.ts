import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../paths.js';
import { formatCheckReport } from '../diagnostics/check-report.js';
import { checkDatabase } from '../sqlite/check.js';
import { openReaderConnection, openWriterConnection } from '../sqlite/connection.js';
import { createDirectoryFor } from '../sqlite/files.js';
import { operations } from '../catalogue/index.js';
import { StoreError } from '../api/errors.js';
import { DEMO_PATH, runDemo } from './demo.js';
import { applySchema } from '../sqlite/schema.js';
import { engineConfig } from '../sqlite/engine.js';
import { resolveOptions } from '../api/options.js';
import { parseCommand, refuseForeignUrl, suggestion } from './arguments.js';
import { consoleIo, type CliIo } from './io.js';
import { UsageError } from './usage-error.js';

/** The PostgreSQL commands, loaded only for a postgres:// argument (a SQLite command never loads `pg`). */
const postgresCommands = (): Promise<typeof import('./postgres-commands.js')> => import('./postgres-commands.js');
const isPostgresUrl = (text: string | undefined): boolean => text !== undefined && /^postgres(ql)?:\/\//.test(text);

const USAGE = `usage: abathur-store <command> [options]

commands:
  init <path|url>        create the database (and its directory) and apply the schema;
                         or apply it to a PostgreSQL server (postgres://…)
  check <path|url> [--json]
                         verify integrity, foreign keys, WAL, the 33 index requirements
                         and every statement's plan; exit 1 if anything fails
  migrate <path>         bring a database made by an earlier release to this schema
                         version (opening a store does the same) and say what was done
  migrate --from <path> --to <url>
                         copy a SQLite store into an empty PostgreSQL one, table by
                         table in batches, then count each table on both sides
  demo [options]         a simulated orchestrator on its own ./data/abathur-demo.db, then a report
  bench                  where the load benchmark is: a program of its own in a source
                         checkout (npm run bench), not part of the package

options:
  -h, --help             this text; \`abathur-store <command> --help\` for one command
  -v, --version          the package version

exit codes: 0 ok, 1 the command ran and failed (check found a problem, the database
could not be opened or used), 2 usage error (unknown command or option, bad argument).`;

/** Each command's own help, printed by `abathur-store <command> --help`. */
const COMMAND_HELP: Record<string, string> = {
  init: `usage: abathur-store init <path>
       abathur-store init postgres://user:password@host/database [--schema NAME]

Creates the database file (and its directory) owner-only (mode 0600) and applies the
schema. A database already at the current schema version is left as it is. Given a
PostgreSQL URL, applies the store's schema there (in schema NAME, default abathur).`,
  check: `usage: abathur-store check <path> [--json]
       abathur-store check postgres://user:password@host/database [--schema NAME] [--json]

Verifies a database without changing it: integrity_check, foreign_key_check, the WAL
journal mode, the 33 index requirements (and which index serves each), and the query
plan of every statement the store runs. On PostgreSQL: the schema version, invalid
indexes and unvalidated constraints, the 33 requirements against pg_index, and the
generic plan of every statement (no large table read end to end).

  --json          print the report as JSON
  --schema NAME   the PostgreSQL schema of the store (default abathur)

Exit code 1 when anything fails.`,
  migrate: `usage: abathur-store migrate <path>
       abathur-store migrate --from <path> --to postgres://user:password@host/database [--schema NAME]

Brings a database made by an earlier release of abathur-store to this release's schema
version, one numbered migration at a time, each in its own transaction (opening a store
does the same). Says what it did: each step, its time, and the rows of new tables. A
database already current is left as it is; one newer than this release is refused.

With --from and --to, copies a SQLite store (at this release's schema version: migrate
it first) into an empty PostgreSQL one: the schema is applied there, then every table in
dependency order, in batches, with a progress bar, in one transaction (a failure leaves
the target as it was), from one consistent snapshot of the file (the store may stay in
use). Ends with each table's row count on both sides; exit code 1 if any differs.`,
  demo: `usage: abathur-store demo [options]

A simulated orchestrator: agent sessions that read their session and memory context,
append events, revise memory, claim and complete tasks, save checkpoints and record
metrics, then a report per operation and the database's check.

  --sessions N     concurrent agent sessions (64)
  --duration S     seconds to run (20)
  --think MS       think time between turns (100)
  --path FILE      the database (${DEMO_PATH}); a file holding data the demo did not
                   write is refused (exit 1), so the demo never writes into your store`,
  bench: `usage: abathur-store bench

The load benchmark is a program of its own beside the library, not part of this command
line or of the published package: it needs development dependencies (sqlite3, tinybench).
From a source checkout:
  npm install && npm run bench -- --help
Run without --help, this command says the same on stderr and exits 2.`,
};

/** What the command line says about the benchmark, which is not part of the library. */
export const BENCH_FROM_SOURCE = `abathur-store: the benchmark is a program of its own beside the library, not part of this
command line or of the published package (it needs development dependencies such as
sqlite3 and tinybench). From a source checkout:
  npm install && npm run bench -- --help`;

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function init(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommand('init', { args, allowPositionals: true, options: { schema: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('init takes one database path or PostgreSQL URL');
  refuseForeignUrl(positionals[0], "init's argument", 'postgres');
  if (isPostgresUrl(positionals[0])) return (await postgresCommands()).initPostgres(positionals[0]!, values.schema, io);
  if (values.schema !== undefined) throw new UsageError('--schema applies to a PostgreSQL URL only');
  const path = resolve(positionals[0]!);
  // The directory and the connection the store would make with its default options.
  const { writer } = engineConfig(resolveOptions({ path }));
  createDirectoryFor(path, writer.fileMode);
  const db = openWriterConnection(path, writer);
  try {
    const { applied, version } = applySchema(db);
    io.out(applied ? `initialised ${path} (schema version ${version})` : `${path} is already at schema version ${version}`);
  } finally {
    db.close();
  }
  return 0;
}

const thousands = (n: number): string => n.toLocaleString('en-US');

async function migrate(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommand('migrate', {
    args,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, schema: { type: 'string' } },
  });
  if (values.from !== undefined || values.to !== undefined) {
    if (values.from === undefined || values.to === undefined || positionals.length > 0) {
      throw new UsageError('migrate --from <sqlite file> --to <postgres://…> takes both, and no other argument');
    }
    refuseForeignUrl(values.from, '--from', 'none');
    if (!isPostgresUrl(values.to)) throw new UsageError(`--to must be a PostgreSQL URL (postgres://…), got "${values.to}"`);
    const from = resolve(values.from);
    if (!existsSync(from)) throw new StoreError('IO_ERROR', `cannot copy ${from}: file does not exist`);
    return (await postgresCommands()).copyToPostgres(from, values.to, values.schema, io);
  }
  if (values.schema !== undefined) throw new UsageError('--schema applies to migrate --from … --to postgres://… only');
  if (positionals.length !== 1) throw new UsageError('migrate takes one database path');
  refuseForeignUrl(positionals[0], "migrate's argument", 'none');
  const path = resolve(positionals[0]!);
  if (!existsSync(path)) {
    throw new StoreError('IO_ERROR', `cannot migrate ${path}: file does not exist (abathur-store init creates one)`);
  }
  const db = openWriterConnection(path, engineConfig(resolveOptions({ path })).writer);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck();
    const before = new Set(tables.all() as string[]);
    const started = performance.now();
    const result = applySchema(db);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (result.applied) {
      io.out(`initialised ${path} (schema version ${result.version}): it held no schema to migrate`);
    } else if (result.migrated.length === 0) {
      io.out(`${path} is already at schema version ${result.version}; nothing to do`);
    } else {
      io.out(`migrated ${path} from schema version ${result.from} to ${result.version} in ${seconds} s, one transaction per step:`);
      for (const step of result.migrated) io.out(`  ${step.name} (version ${step.version}): ${thousands(Math.round(step.ms))} ms`);
      for (const table of (tables.all() as string[]).filter((name) => !before.has(name))) {
        const rows = db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
        io.out(`  new table ${table}: ${thousands(rows)} rows`);
      }
    }
  } finally {
    db.close();
  }
  return 0;
}

async function check(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommand('check', {
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, schema: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('check takes one database path or PostgreSQL URL');
  refuseForeignUrl(positionals[0], "check's argument", 'postgres');
  if (isPostgresUrl(positionals[0])) return (await postgresCommands()).checkPostgresUrl(positionals[0]!, values.schema, values.json, io);
  if (values.schema !== undefined) throw new UsageError('--schema applies to a PostgreSQL URL only');
  // Read-only: checking never changes the file. foreign_keys is set on this connection
  // as the store sets it on its own, to show this SQLite enforces them.
  const { reader } = engineConfig(resolveOptions({ path: resolve(positionals[0]!) }));
  const db = openReaderConnection(reader.path, reader.busyTimeoutMs);
  try {
    db.pragma('foreign_keys = ON');
    const report = checkDatabase(db, { operations });
    io.out(values.json ? JSON.stringify(report, null, 2) : formatCheckReport(report));
    return report.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

async function demo(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand('demo', {
    args,
    options: {
      path: { type: 'string', default: DEMO_PATH },
      sessions: { type: 'string', default: '64' },
      duration: { type: 'string', default: '20' },
      think: { type: 'string', default: '100' },
    },
  });
  const number = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number of at least ${min}, got "${text}"`);
    return n;
  };
  refuseForeignUrl(values.path, '--path', 'none');
  const result = await runDemo({
    path: values.path,
    sessions: Math.round(number('sessions', values.sessions, 1)),
    durationMs: number('duration', values.duration, 0.1) * 1000,
    thinkMs: number('think', values.think, 0),
    out: io.out,
    interactive: io.interactive === true,
  });
  return result.ok ? 0 : 1;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = consoleIo()): Promise<number> {
  const [command, ...rest] = argv;
  const commandHelp = command === undefined ? undefined : COMMAND_HELP[command];
  try {
    if (commandHelp !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      io.out(commandHelp);
      return 0;
    }
    switch (command) {
      case 'init':
        return await init(rest, io);
      case 'check':
        return await check(rest, io);
      case 'migrate':
        return await migrate(rest, io);
      case 'demo':
        return await demo(rest, io);
      case 'bench':
        // The library never loads the benchmark: it is a program of its own (bench/main.ts).
        io.err(BENCH_FROM_SOURCE);
        return 2;
      case '--version':
      case '-v':
        io.out(packageVersion());
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.out((rest[0] === undefined ? undefined : COMMAND_HELP[rest[0]]) ?? USAGE);
        return 0;
      case undefined:
        io.err(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"${suggestion(command, Object.keys(COMMAND_HELP))}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.err(`abathur-store: ${error.message}\n\n${commandHelp ?? USAGE}`);
      return 2;
    }
    if (error instanceof StoreError) {
      io.err(`abathur-store: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
