import { resolvePostgresOptions } from '../api/options.js';
import { formatCheckReport } from '../diagnostics/check-report.js';
import { checkPostgres } from '../postgres/check.js';
import { copySqliteToPostgres, type CopyProgress } from '../copy/copy.js';
import { loadPg } from '../postgres/driver.js';
import { createPool } from '../postgres/engine.js';
import { pgStoreError } from '../postgres/errors.js';
import { pgImplementations } from '../postgres/operations/index.js';
import { migrate } from '../postgres/schema.js';
import type { CliIo } from './io.js';

// The command line's PostgreSQL side, loaded only when a command names a postgres:// URL:
// a command on a SQLite file never loads `pg`.

/** `init <url>`: applies the store's schema to the server (once, under the advisory lock). */
export async function initPostgres(url: string, schema: string | undefined, io: CliIo): Promise<number> {
  const options = resolvePostgresOptions({ url, ...(schema === undefined ? {} : { schema }) });
  const pool = await createPool(options);
  try {
    const client = await pool.connect().catch((error: unknown) => {
      throw pgStoreError(error, { operation: `init ${options.location}`, phase: 'connect', write: true });
    });
    try {
      const { applied, version } = await migrate(client, options.schema);
      io.out(
        applied.length > 0
          ? `initialised schema "${options.schema}" on ${options.location} (schema version ${version})`
          : `schema "${options.schema}" on ${options.location} is already at schema version ${version}`,
      );
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
  return 0;
}

/** `check <url>`: verifies the store's schema on a server without changing anything. */
export async function checkPostgresUrl(url: string, schema: string | undefined, json: boolean, io: CliIo): Promise<number> {
  const options = resolvePostgresOptions({ url, ...(schema === undefined ? {} : { schema }) });
  const pool = await createPool(options);
  try {
    const report = await checkPostgres(pool, { location: options.location, schema: options.schema, implementations: pgImplementations }).catch(
      (error: unknown) => {
        throw pgStoreError(error, { operation: `check ${options.location}`, phase: 'run', write: false });
      },
    );
    io.out(json ? JSON.stringify(report, null, 2) : formatCheckReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}

/** A progress bar redrawn in place on a terminal; elsewhere, a line per table when it is done. */
function progressPrinter(io: CliIo): (progress: CopyProgress) => void {
  let last = '';
  return ({ table, copied, total }) => {
    const done = copied === total;
    if (io.interactive === true && io.progress !== undefined) {
      const width = 30;
      const filled = total === 0 ? width : Math.round((copied / total) * width);
      io.progress(`${table.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${copied.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`, done);
    } else if (done && table !== last) {
      last = table;
      io.out(`  ${table}: ${total.toLocaleString('en-US')} rows copied`);
    }
  };
}

/**
 * `migrate --from <file> --to <url>`: copies a SQLite store into an empty PostgreSQL one,
 * then counts every table on both sides; exit code 1 when a count differs.
 */
export async function copyToPostgres(from: string, url: string, schema: string | undefined, io: CliIo): Promise<number> {
  const to = resolvePostgresOptions({ url, ...(schema === undefined ? {} : { schema }) });
  // Before the first line of output: without `pg` nothing can be copied, so nothing is announced.
  await loadPg();
  io.out(`copying ${from} into schema "${to.schema}" on ${to.location}, one transaction, in batches:`);
  const report = await copySqliteToPostgres({ from, to, onProgress: progressPrinter(io) });
  const width = report.counts.reduce((most, c) => Math.max(most, c.table.length), 0);
  io.out(`${'table'.padEnd(width)}  ${'SQLite'.padStart(10)}  ${'PostgreSQL'.padStart(10)}`);
  for (const count of report.counts) {
    const mark = count.sqlite === count.postgres ? '' : '  MISMATCH';
    io.out(`${count.table.padEnd(width)}  ${count.sqlite.toLocaleString('en-US').padStart(10)}  ${count.postgres.toLocaleString('en-US').padStart(10)}${mark}`);
  }
  const rows = report.counts.reduce((n, c) => n + c.postgres, 0);
  io.out(
    report.ok
      ? `copied ${rows.toLocaleString('en-US')} rows in ${(report.ms / 1000).toFixed(1)} s; every table holds as many rows on both sides`
      : 'FAILED: the counts differ',
  );
  return report.ok ? 0 : 1;
}
