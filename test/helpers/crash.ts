import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openWriterConnection, type Synchronous } from '../../src/sqlite/connection.js';
import { applySchema } from '../../src/sqlite/schema.js';

const fixture = fileURLToPath(new URL('../fixtures/crash-writer.mjs', import.meta.url));

export type Ack =
  | { op: 'session'; id: string }
  | { op: 'ready' }
  | { op: 'attempt'; sid: string; eventId: string; w: number; n: number }
  | { op: 'event'; sid: string; eventId: string; w: number; n: number; seq: number; retried?: boolean }
  | { op: 'memory'; namespace: string; key: string; version: number; value: number }
  | { op: 'task'; id: string }
  | { op: 'metric'; id: number };

export type Attempt = Extract<Ack, { op: 'attempt' }>;

/**
 * Starts the crash fixture on `path`, lets it write for `killAfterMs` once it is ready,
 * then SIGKILLs it. It first retries `retries` (appends the previous run had in flight).
 * Returns every write it acknowledged, and every append it attempted (complete lines only).
 */
export function runAndKill(
  path: string,
  synchronous: Synchronous,
  run: number,
  killAfterMs: number,
  retries: readonly Attempt[] = [],
): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const args = [fixture, path, synchronous, String(run), JSON.stringify(retries)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const acks: Ack[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const ack = JSON.parse(buffer.slice(0, newline)) as Ack;
        buffer = buffer.slice(newline + 1);
        acks.push(ack);
        if (ack.op === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`crash fixture exited on its own (${code}): ${stderr}`));
      else resolve(acks);
    });
  });
}

/** Appends attempted in `acks` whose promise never resolved: in flight at the kill. */
export function unacknowledged(acks: readonly Ack[]): Attempt[] {
  const done = new Set(acks.flatMap((a) => (a.op === 'event' ? [a.eventId] : [])));
  return acks.filter((a): a is Attempt => a.op === 'attempt' && !done.has(a.eventId));
}

/**
 * Reopens the database as the store would after a crash (recovery included) and checks
 * it: integrity, foreign keys, every acknowledged write present, every event in the log
 * once (acknowledged or retried, never twice), and no operation half-applied (each
 * write's rows and its audit row commit together or not at all).
 */
export function verifyAfterCrash(path: string, acks: readonly Ack[]): string[] {
  const db = openWriterConnection(path, { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
  const problems: string[] = [];
  try {
    applySchema(db);
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`);
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length > 0) problems.push(`${fk.length} foreign-key violations`);

    // Every acknowledged write is there; every acknowledged event at the seq it was given.
    const session = db.prepare('SELECT 1 FROM sessions WHERE id = ?').pluck();
    const event = db.prepare("SELECT seq, event ->> '$.w' AS w, event ->> '$.n' AS n FROM session_events WHERE session_id = ? AND event_id = ?");
    const memory = db.prepare('SELECT value FROM memory_entries WHERE namespace = ? AND key = ? AND version = ?').pluck();
    const task = db.prepare('SELECT 1 FROM tasks WHERE id = ?').pluck();
    const metric = db.prepare('SELECT 1 FROM metrics WHERE id = ?').pluck();
    for (const ack of acks) {
      if (ack.op === 'session' && session.get(ack.id) === undefined) problems.push(`lost session ${ack.id}`);
      if (ack.op === 'event') {
        const row = event.get(ack.sid, ack.eventId) as { seq: number; w: number; n: number } | undefined;
        if (row === undefined) problems.push(`lost event ${ack.eventId} of ${ack.sid}`);
        else if (row.seq !== ack.seq || row.w !== ack.w || row.n !== ack.n) {
          problems.push(`event ${ack.eventId} of ${ack.sid} is ${JSON.stringify(row)}, acknowledged as seq ${ack.seq}`);
        }
      }
      if (ack.op === 'memory') {
        const value = memory.get(ack.namespace, ack.key, ack.version) as string | undefined;
        if (value === undefined || (JSON.parse(value) as { n: number }).n !== ack.value) {
          problems.push(`lost memory ${ack.namespace}/${ack.key} v${ack.version}`);
        }
      }
      if (ack.op === 'task' && task.get(ack.id) === undefined) problems.push(`lost task ${ack.id}`);
      if (ack.op === 'metric' && metric.get(ack.id) === undefined) problems.push(`lost metric ${ack.id}`);
    }

    // No event twice: each carries its own id in its body, whatever the event_id column says.
    const twice = db.prepare("SELECT event ->> '$.id' AS id, count(*) AS n FROM session_events GROUP BY 1 HAVING count(*) > 1").all() as { id: string; n: number }[];
    for (const { id, n } of twice) problems.push(`event ${id} is in the log ${n} times`);

    // No operation half-applied: each row has exactly its audit row, and vice versa. An
    // append audits one event, a batch its count.
    const appendAudits = new Map(
      (db
        .prepare(
          "SELECT json_extract(action_data, '$.sessionId') AS sid, sum(CASE action_type WHEN 'session_append_event' THEN 1 ELSE json_extract(action_data, '$.count') END) AS n " +
            "FROM audit WHERE action_type IN ('session_append_event', 'session_append_events') GROUP BY sid",
        )
        .all() as { sid: string; n: number }[]).map((r) => [r.sid, r.n]),
    );
    const counts = db.prepare('SELECT s.id, s.event_count AS n, (SELECT count(*) FROM session_events e WHERE e.session_id = s.id) AS rows FROM sessions s');
    for (const { id, n, rows } of counts.all() as { id: string; n: number; rows: number }[]) {
      if ((appendAudits.get(id) ?? 0) !== n) problems.push(`session ${id} has ${n} events but ${appendAudits.get(id) ?? 0} audited appends`);
      if (rows !== n) problems.push(`session ${id} counts ${n} events but holds ${rows} rows`);
    }
    const orphanMemory = db
      .prepare('SELECT count(*) FROM memory_entries m WHERE (SELECT count(*) FROM audit a WHERE a.memory_entry_id = m.id) <> 1')
      .pluck()
      .get() as number;
    if (orphanMemory > 0) problems.push(`${orphanMemory} memory versions without exactly one audit row`);
    const orphanTasks = db
      .prepare("SELECT count(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.task_id = t.id AND a.action_type = 'task_create')")
      .pluck()
      .get() as number;
    if (orphanTasks > 0) problems.push(`${orphanTasks} tasks without their audit row`);
    const metrics = db.prepare('SELECT count(*) FROM metrics').pluck().get() as number;
    const metricAudits = db.prepare("SELECT count(*) FROM audit WHERE action_type = 'metric_record'").pluck().get() as number;
    if (metrics !== metricAudits) problems.push(`${metrics} metrics but ${metricAudits} metric audit rows`);
    const sessions = db.prepare('SELECT count(*) FROM sessions').pluck().get() as number;
    const sessionAudits = db.prepare("SELECT count(*) FROM audit WHERE action_type = 'session_create'").pluck().get() as number;
    if (sessions !== sessionAudits) problems.push(`${sessions} sessions but ${sessionAudits} create audits`);
  } finally {
    db.close();
  }
  return problems;
}

export interface CrashSummary {
  runs: number;
  acknowledged: number;
  /** Appends in flight at a kill, retried by the next run with the same eventId. */
  retried: number;
  problems: string[];
}

/**
 * `runs` kill -9 cycles on one database: each run writes for a random time, is killed,
 * and the database is reopened and checked before the next run starts.
 */
export async function crashCycles(path: string, synchronous: Synchronous, runs: number, seed: number): Promise<CrashSummary> {
  let state = seed;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const all: Ack[] = [];
  const problems: string[] = [];
  let retries: Attempt[] = [];
  for (let run = 1; run <= runs; run++) {
    const acks = await runAndKill(path, synchronous, run, Math.floor(random() * 300), retries);
    all.push(...acks);
    retries = unacknowledged(acks);
    problems.push(...verifyAfterCrash(path, acks).map((p) => `run ${run}: ${p}`));
    if (problems.length > 20) break;
  }
  // Finally, everything acknowledged in every run is still there.
  problems.push(...verifyAfterCrash(path, all).map((p) => `at the end: ${p}`));
  const retried = all.filter((a) => a.op === 'event' && a.retried === true).length;
  return { runs, acknowledged: all.filter((a) => a.op !== 'ready' && a.op !== 'attempt').length, retried, problems };
}
