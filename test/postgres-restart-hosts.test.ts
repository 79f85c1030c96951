import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startPostgres } from '../bench/postgres-server.js';
import { AbathurSessionService } from '../src/adk/index.js';
import { openStore } from '../src/store.js';
import { pgClient } from './helpers/postgres.js';
import { cleanup } from './helpers/temp.js';

const fixture = fileURLToPath(new URL('./fixtures/pg-host-restart.mjs', import.meta.url));

interface HostReport {
  host: number;
  acked: Record<string, number[]>;
  adkAcked: Record<string, string[]>;
  claimed: string[];
  completed: string[];
  unknownClaims: number;
  unknownCompletes: number;
  wins: number;
  unknownWins: number;
  conflicts: number;
  failures: Record<string, number>;
  untyped: string[];
  errors: string[];
}

interface Host {
  child: ChildProcess;
  progress: number;
  report: Promise<HostReport>;
}

function startHost(url: string, host: number, sessions: number): Host {
  const child = spawn(process.execPath, [fixture, url, String(host), String(sessions)], { stdio: ['pipe', 'pipe', 'pipe'] });
  cleanup(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const state: Host = { child, progress: 0, report: undefined as unknown as Promise<HostReport> };
  state.report = new Promise((resolve, reject) => {
    let report: HostReport | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { progress?: number; report?: HostReport };
      if (message.progress !== undefined) state.progress = message.progress;
      if (message.report !== undefined) report = message.report;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && report !== undefined ? resolve(report) : reject(new Error(`host ${host} exited ${code}: ${stderr}`))));
  });
  return state;
}

const total = (hosts: Host[]): number => hosts.reduce((n, h) => n + h.progress, 0);

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !condition(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('many processes on one PostgreSQL server, restarted in the middle', () => {
  it('4 processes × 32 sessions: calls in flight settle typed, pools recover without reopening, retries with eventId are stored once, nothing acknowledged is lost', { timeout: 180_000 }, async () => {
    // A server of this test's own: the run's shared one must not restart under other files.
    const server = await startPostgres({ database: 'hosts_restart' });
    cleanup(() => server.stop());
    const setup = await openStore({ url: server.url });
    cleanup(() => setup.close().catch(() => {}));
    const TASKS = 4000;
    for (let start = 0; start < TASKS; start += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => setup.tasks.create({ id: `t${start + i}`, prompt: 'p', inputData: {}, priority: 1 + ((start + i) % 10) })));
    }
    await setup.memory.add({ namespace: 'app:hosts', key: 'leader', value: null, type: 'semantic' });

    const HOSTS = 4;
    const SESSIONS = 32;
    const hosts = Array.from({ length: HOSTS }, (_, host) => startHost(server.url, host, SESSIONS));
    await until(() => hosts.every((h) => h.progress >= 100), 'every host to get going');
    await server.restart();
    const afterRestart = total(hosts);
    // Every host goes on, on the pool it had: none reopened its store.
    await until(() => total(hosts) >= afterRestart + 800 && hosts.every((h) => h.progress > 100), 'the load to go on after the restart');
    for (const host of hosts) host.child.stdin!.end('stop\n');
    const reports = await Promise.all(hosts.map((h) => h.report));

    // What failed, failed typed: the connection was lost (IO_ERROR) or lost during COMMIT.
    expect(reports.flatMap((r) => r.untyped)).toEqual([]);
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    const codes = new Set(reports.flatMap((r) => Object.keys(r.failures)));
    expect([...codes].every((code) => code === 'IO_ERROR' || code === 'OUTCOME_UNKNOWN'), [...codes].join()).toBe(true);
    // The restart did hit calls in flight.
    expect(reports.reduce((n, r) => n + Object.values(r.failures).reduce((a, b) => a + b, 0), 0)).toBeGreaterThan(0);

    const db = await pgClient(server.url);
    // Appends: exactly the acknowledged ones, once each, in order, though some were sent twice.
    let events = 0;
    for (const report of reports) {
      for (const [id, acked] of Object.entries(report.acked)) {
        const { rows } = await db.query<{ n: number }>(
          "SELECT (event->>'n')::int AS n FROM abathur.session_events WHERE session_id = $1 ORDER BY seq",
          [id],
        );
        expect(rows.map((row) => row.n), id).toEqual(acked);
        events += acked.length;
      }
    }
    const ids = reports.flatMap((r) => Object.keys(r.acked));
    const { rows: counts } = await db.query<{ events: number; sessions: number }>(
      'SELECT (SELECT count(*)::int FROM abathur.session_events WHERE session_id = ANY ($1)) AS events, ' +
        '(SELECT sum(event_count)::int FROM abathur.sessions WHERE id = ANY ($1)) AS sessions',
      [ids],
    );
    expect(counts[0]).toEqual({ events, sessions: events });

    // Tasks: no task claimed twice; every acknowledged completion stored, and only those
    // (plus claims whose outcome was unknown, which may hold a task running).
    const claimed = reports.flatMap((r) => r.claimed);
    expect(new Set(claimed).size).toBe(claimed.length);
    const { rows: byStatus } = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM abathur.tasks GROUP BY 1');
    const status: Record<string, number> = { completed: 0, running: 0, pending: 0, ...Object.fromEntries(byStatus.map((row) => [row.status, row.n])) };
    expect(status.completed).toBe(reports.reduce((n, r) => n + r.completed.length, 0));
    const unknownClaims = reports.reduce((n, r) => n + r.unknownClaims, 0);
    expect(status.running).toBeLessThanOrEqual(unknownClaims);
    expect(status.completed! + status.running! + status.pending!).toBe(TASKS);

    // The contended key: one version per acknowledged win, at most one more per unknown one.
    const wins = reports.reduce((n, r) => n + r.wins, 0);
    const unknownWins = reports.reduce((n, r) => n + r.unknownWins, 0);
    const history = await setup.memory.history('app:hosts', 'leader', { limit: 1000 });
    const versions = history.items.map((e) => e.version);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => versions.length - i));
    expect(versions.length - 1).toBeGreaterThanOrEqual(wins);
    expect(versions.length - 1).toBeLessThanOrEqual(wins + unknownWins);

    // ADK sessions: exactly the acknowledged events, once each, in order.
    const adk = new AbathurSessionService(setup);
    for (const report of reports) {
      for (const [id, acked] of Object.entries(report.adkAcked)) {
        const session = await adk.getSession({ appName: 'hosts', userId: `host${report.host}`, sessionId: id });
        expect(session!.events.map((e) => e.id), id).toEqual(acked);
        expect(session!.state.n).toBe(acked.length - 1);
      }
    }
  });
});
