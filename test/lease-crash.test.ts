import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/store.js';
import { openPostgresTestStore, urlOf } from './helpers/postgres.js';
import { openTestStore } from './helpers/store.js';

const fixture = fileURLToPath(new URL('./fixtures/lease-holder.mjs', import.meta.url));

interface Held {
  id: string;
  token: string;
  leaseExpiresAt: string;
}

/** Runs the lease holder on the store's database until it holds its claims, then kills it with SIGKILL. */
function claimAndDie(options: object, count: number, leaseMs: number): Promise<Held[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, JSON.stringify(options), String(count), String(leaseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const held: Held[] = [];
    let out = '';
    let err = '';
    let done = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = JSON.parse(out.slice(0, nl)) as { op: string } & Held;
        out = out.slice(nl + 1);
        if (line.op === 'claim') held.push({ id: line.id, token: line.token, leaseExpiresAt: line.leaseExpiresAt });
        if (line.op === 'held') {
          done = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (_, signal) => {
      clearTimeout(timer);
      if (done && signal === 'SIGKILL') resolve(held);
      else reject(new Error(`lease holder ended before it held its claims (${signal}): ${err}`));
    });
  });
}

const TASKS = 6;
const LEASE_MS = 3_000;

const engines: readonly [string, () => Promise<{ store: Store; options: object }>][] = [
  ['sqlite', async () => {
    const store = await openTestStore();
    return { store, options: { path: store.path, readers: 1 } };
  }],
  ['postgres', async () => {
    const store = await openPostgresTestStore();
    return { store, options: { url: urlOf(store) } };
  }],
];

describe.each(engines)('a process killed holding claims [%s]', (_, open) => {
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => {})));
  });

  it('leaves its tasks to be claimed again once their leases end; its late results are refused; none is completed twice', async () => {
    const { store, options } = await open();
    stores.push(store);
    for (let i = 0; i < TASKS; i++) await store.tasks.create({ id: `t${i}`, prompt: 'p', inputData: { i } });
    const held = await claimAndDie(options, TASKS, LEASE_MS);
    expect(held.map((h) => h.id).sort()).toEqual(Array.from({ length: TASKS }, (_, i) => `t${i}`));
    // Still its until the leases end.
    for (const { id } of held) expect(await store.tasks.get(id)).toMatchObject({ status: 'running', retryCount: 0 });
    if (Date.now() < Date.parse(held[0]!.leaseExpiresAt) - 500) expect(await store.tasks.claimNext()).toBeUndefined();

    // Waiting claims: they park until the first lease ends, then take every task once.
    const claimed = await Promise.all(held.map(() => store.tasks.claimNext({ waitMs: 30_000, leaseMs: 60_000 })));
    expect(claimed.map((t) => t?.id).sort()).toEqual(held.map((h) => h.id).sort());
    const latest = Math.max(...held.map((h) => Date.parse(h.leaseExpiresAt)));
    for (const task of claimed) {
      expect(task).toMatchObject({ status: 'running', retryCount: 1 });
      expect(Date.parse(task!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(held.find((h) => h.id === task!.id)!.leaseExpiresAt));
    }
    expect(Date.now()).toBeGreaterThanOrEqual(latest);

    // The dead agent's results, arriving late (as a restarted agent would send them), are refused.
    for (const { id, token } of held) {
      await expect(store.tasks.complete(id, { from: 'dead' }, { claimToken: token })).rejects.toMatchObject({ code: 'CONFLICT' });
    }
    for (const task of claimed) await store.tasks.complete(task!.id, { from: 'successor' }, { claimToken: task!.claimToken! });
    for (const { id } of held) {
      expect(await store.tasks.get(id)).toMatchObject({ status: 'completed', resultData: { from: 'successor' } });
      const audit = (await store.audit.list({ taskId: id })).items.map((a) => a.actionType);
      expect(audit.filter((a) => a === 'task_complete')).toHaveLength(1);
      expect(audit.filter((a) => a === 'task_lease_expired')).toHaveLength(1);
      expect(audit.filter((a) => a === 'task_claim')).toHaveLength(2);
    }
  }, 120_000);
});
