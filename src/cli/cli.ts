import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkDatabase, formatCheckReport } from '../diagnostics/check.js';
import { openReaderConnection, openWriterConnection } from '../sqlite/connection.js';
import { operations } from '../catalogue/index.js';
import { StoreError } from '../api/errors.js';
import { runDemo } from './demo.js';
import { applySchema } from '../sqlite/schema.js';
import { engineConfig } from '../sqlite/engine.js';
import { resolveOptions } from '../api/options.js';
import { UsageError } from './usage-error.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** A terminal: progress can be redrawn in place. */
  interactive?: boolean;
}

const consoleIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  interactive: process.stdout.isTTY,
};

const USAGE = `usage: abathur-store <command> [options]

commands:
  init <path>            create the database (and its directory) and apply the schema
  check <path> [--json]  verify integrity, foreign keys, WAL, the 33 index requirements
                         and every statement's plan; exit 1 if anything fails
  demo [options]         a simulated orchestrator on ./data/abathur.db, then a report:
                         --sessions N (64), --duration S (20), --think MS (100), --path FILE
  bench                  the load benchmark is not part of the package: in a source
                         checkout, npm run bench -- --help`;

function init(args: string[], io: CliIo): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('init takes one database path');
  const path = resolve(positionals[0]!);
  mkdirSync(dirname(path), { recursive: true });
  // The connection the store's writer would open with its default options.
  const db = openWriterConnection(path, engineConfig(resolveOptions({ path })).writer);
  try {
    const { applied, version } = applySchema(db);
    io.out(applied ? `initialised ${path} (schema version ${version})` : `${path} is already at schema version ${version}`);
  } finally {
    db.close();
  }
  return 0;
}

function check(args: string[], io: CliIo): number {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError('check takes one database path');
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
  const { values } = parseArgs({
    args,
    options: {
      path: { type: 'string', default: './data/abathur.db' },
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
export async function main(argv: readonly string[], io: CliIo = consoleIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'init':
        return init(rest, io);
      case 'check':
        return check(rest, io);
      case 'demo':
        return await demo(rest, io);
      case 'bench':
        // The library never loads the benchmark: it is a program of its own (bench/main.ts).
        io.err('abathur-store: the benchmark is not part of the installed package; in a source checkout run: npm run bench -- [options]');
        return 2;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.err(`abathur-store: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof StoreError) {
      io.err(`abathur-store: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
