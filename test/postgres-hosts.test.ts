import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store.js';
import { freshPostgresUrl, pgClient } from './helpers/postgres.js';
import { cleanup } from './helpers/temp.js';

const fixture = fileURLToPath(new URL('./fixtures/pg-host.mjs', import.meta.url));

interface HostReport {
  host: number;
  acked: Record<string, number[]>;
  claimed: string[];
  wins: number;
  conflicts: number;
  failures: string[];
}

function runHost(url: string, host: number, sessions: number, rounds: number): Promise<HostReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, url, String(host), String(sessions), String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as HostReport) : reject(new Error(`host ${host} exited ${code}: ${stderr}`))));
  });
}

describe('several hosts on one PostgreSQL database', () => {
  it('four processes × 32 sessions: no task claimed twice, no event lost or duplicated, counts reconciled', async () => {
    const url = await freshPostgresUrl();
    const setup = await openStore({ url });
    cleanup(() => setup.close().catch(() => {}));
    const TASKS = 800;
    for (let start = 0; start < TASKS; start += 200) {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => setup.tasks.create({ id: `t${start + i}`, prompt: 'p', inputData: {}, priority: 1 + ((start + i) % 10) })),
      );
    }
    await setup.memory.add({ namespace: 'app:hosts', key: 'leader', value: null, type: 'semantic' });

    const HOSTS = 4;
    const SESSIONS = 32;
    const ROUNDS = 6;
    const reports = await Promise.all(Array.from({ length: HOSTS }, (_, host) => runHost(url, host, SESSIONS, ROUNDS)));
    expect(reports.flatMap((r) => r.failures)).toEqual([]);

    // Tasks: each claimed once, by one host, and completed by it; the rest still pending.
    const claimed = reports.flatMap((r) => r.claimed);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(HOSTS * SESSIONS * ROUNDS); // more tasks than claims: every claim found one
    const db = await pgClient(url);
    const { rows: byStatus } = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM abathur.tasks GROUP BY 1 ORDER BY 1');
    expect(byStatus).toEqual([
      { status: 'completed', n: claimed.length },
      { status: 'pending', n: TASKS - claimed.length },
    ]);
    const { rows: completedBy } = await db.query<{ id: string; host: number }>(
      "SELECT id, (result_data->>'host')::int AS host FROM abathur.tasks WHERE status = 'completed'",
    );
    const claimedBy = new Map(reports.flatMap((r) => r.claimed.map((id) => [id, r.host] as const)));
    for (const row of completedBy) expect(row.host).toBe(claimedBy.get(row.id));
    const { rows: claims } = await db.query<{ n: number; tasks: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT task_id)::int AS tasks FROM abathur.audit WHERE action_type = 'task_claim'",
    );
    expect(claims[0]).toEqual({ n: claimed.length, tasks: claimed.length });

    // Events: exactly the acknowledged ones, once each, in order, with their counts.
    let events = 0;
    for (const report of reports) {
      for (const [id, acked] of Object.entries(report.acked)) {
        const session = (await setup.sessions.get(id))!;
        expect((session.events as { n: number }[]).map((e) => e.n)).toEqual(acked);
        expect(session.state).toEqual({ n: ROUNDS - 1 });
        events += acked.length;
      }
    }
    expect(events).toBe(HOSTS * SESSIONS * ROUNDS);
    const { rows: appends } = await db.query<{ n: number; rows: number }>(
      "SELECT (SELECT count(*)::int FROM abathur.audit WHERE action_type = 'session_append_event') AS n, (SELECT count(*)::int FROM abathur.session_events) AS rows",
    );
    expect(appends[0]).toEqual({ n: events, rows: events });

    // The contended key: one new version per win, no gaps, every loser told CONFLICT.
    const wins = reports.reduce((n, r) => n + r.wins, 0);
    expect(wins + reports.reduce((n, r) => n + r.conflicts, 0)).toBe(HOSTS * SESSIONS * ROUNDS);
    const history = await setup.memory.history('app:hosts', 'leader', { limit: 1000 });
    expect(history.items.map((e) => e.version)).toEqual(Array.from({ length: wins + 1 }, (_, i) => wins + 1 - i));
  });
});
