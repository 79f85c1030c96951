import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

const ms = (from: string, to: string): number => Date.parse(to) - Date.parse(from);

describeEachEngine('task leases', (engine) => {
  it('a claim records its holder, a fresh token and when its lease ends (5 minutes unless told)', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 'a', prompt: 'p', inputData: {} });
    await store.tasks.create({ id: 'b', prompt: 'p', inputData: {} });
    const agent = await store.agents.spawn({ id: 'agent-1', name: 'n', specialization: 's', taskId: 'a', model: 'm' });
    const a = (await store.tasks.claimNext({ ctx: { agentId: agent.id } }))!;
    expect(a).toMatchObject({ id: 'a', status: 'running', claimedBy: 'agent-1' });
    expect(a.claimToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(ms(a.startedAt!, a.leaseExpiresAt!)).toBeGreaterThanOrEqual(5 * 60_000 - 50);
    expect(ms(a.startedAt!, a.leaseExpiresAt!)).toBeLessThanOrEqual(5 * 60_000 + 50);
    const b = (await store.tasks.claimNext({ leaseMs: 2_000 }))!;
    expect(b.claimedBy).toBeNull();
    expect(b.claimToken).not.toBe(a.claimToken);
    expect(ms(b.startedAt!, b.leaseExpiresAt!)).toBeGreaterThanOrEqual(1_950);
    expect(ms(b.startedAt!, b.leaseExpiresAt!)).toBeLessThanOrEqual(2_050);
    expect(await store.tasks.get('b')).toEqual(b);
  });

  it('a heartbeat extends a live lease (by the claim’s own length unless told); a wrong token is CONFLICT and changes nothing', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {} });
    const claimed = (await store.tasks.claimNext({ leaseMs: 10_000 }))!;
    await sleep(20);
    const beat = await store.tasks.heartbeat('t', { claimToken: claimed.claimToken! });
    expect(ms(claimed.leaseExpiresAt!, beat.leaseExpiresAt!)).toBeGreaterThanOrEqual(15);
    expect(ms(beat.lastUpdatedAt, beat.leaseExpiresAt!)).toBe(10_000);
    const longer = await store.tasks.heartbeat('t', { claimToken: claimed.claimToken!, leaseMs: 60_000 });
    expect(ms(longer.lastUpdatedAt, longer.leaseExpiresAt!)).toBe(60_000);
    // The new length is the claim's from now on.
    const again = await store.tasks.heartbeat('t', { claimToken: claimed.claimToken! });
    expect(ms(again.lastUpdatedAt, again.leaseExpiresAt!)).toBe(60_000);
    const before = await engine.fingerprint(store);
    await expect(store.tasks.heartbeat('t', { claimToken: 'not-the-token' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.tasks.heartbeat('missing', { claimToken: claimed.claimToken! })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await engine.fingerprint(store)).toBe(before);
    const audit = await store.audit.list({ taskId: 't' });
    expect(audit.items.filter((a) => a.actionType === 'task_heartbeat')).toHaveLength(3);
  });

  it('an ended lease makes its task claimable again, retry counted and audited; the old token is refused, the new one finishes it', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {}, maxRetries: 2 });
    const first = (await store.tasks.claimNext({ leaseMs: 500 }))!;
    expect(await store.tasks.claimNext()).toBeUndefined();
    await sleep(Date.parse(first.leaseExpiresAt!) - Date.now() + 20);
    const second = (await store.tasks.claimNext({ leaseMs: 60_000 }))!;
    expect(second).toMatchObject({ id: 't', status: 'running', retryCount: 1 });
    expect(second.claimToken).not.toBe(first.claimToken);
    const audit = await store.audit.list({ taskId: 't' });
    const expired = audit.items.filter((a) => a.actionType === 'task_lease_expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ result: 'pending', actionData: { taskId: 't', retryCount: 1 } });

    // Fencing: the first holder comes back late; nothing it says is taken.
    const before = await engine.fingerprint(store);
    await expect(store.tasks.complete('t', { late: true }, { claimToken: first.claimToken! })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('claimed again'),
    });
    await expect(store.tasks.fail('t', 'late', { claimToken: first.claimToken! })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.tasks.heartbeat('t', { claimToken: first.claimToken! })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await engine.fingerprint(store)).toBe(before);

    const done = await store.tasks.complete('t', { ok: 1 }, { claimToken: second.claimToken! });
    expect(done).toMatchObject({ status: 'completed', resultData: { ok: 1 } });
    // Finished: its own token is no longer a claim either.
    await expect(store.tasks.complete('t', 2, { claimToken: second.claimToken! })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('completed') });
  });

  it('a lease that ended is not extended, and a call naming its token is refused even before anyone claims the task again', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {} });
    const claimed = (await store.tasks.claimNext({ leaseMs: 20 }))!;
    await sleep(50);
    await expect(store.tasks.heartbeat('t', { claimToken: claimed.claimToken! })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.tasks.complete('t', 1, { claimToken: claimed.claimToken! })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.tasks.claimNext())?.retryCount).toBe(1);
  });

  it('an ended lease with no retries left fails the task for good, keeping who held it', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {}, maxRetries: 0 });
    const agent = await store.agents.spawn({ id: 'ag', name: 'n', specialization: 's', taskId: 't', model: 'm' });
    await store.tasks.claimNext({ leaseMs: 20, ctx: { agentId: agent.id } });
    await sleep(50);
    expect(await store.tasks.claimNext()).toBeUndefined();
    const failed = (await store.tasks.get('t'))!;
    expect(failed).toMatchObject({ status: 'failed', retryCount: 0, claimedBy: 'ag', claimToken: null, leaseExpiresAt: null });
    expect(failed.errorMessage).toMatch(/^lease expired: held by ag until \d{4}-/);
    expect(failed.completedAt).toMatch(/Z$/);
  });

  it('fail with retries left clears the claim; calls without a token behave as before leases', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {} });
    await store.tasks.claimNext();
    const retried = await store.tasks.fail('t', 'boom');
    expect(retried).toMatchObject({ status: 'pending', claimToken: null, claimedBy: null, leaseExpiresAt: null });
    await store.tasks.claimNext();
    expect(await store.tasks.complete('t', 'done')).toMatchObject({ status: 'completed' });
    await expect(store.tasks.complete('t', 'again')).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('refuses bad lease arguments before anything runs', async () => {
    const store = await engine.open();
    await store.tasks.create({ id: 't', prompt: 'p', inputData: {} });
    const before = await engine.fingerprint(store);
    await expect(store.tasks.claimNext({ leaseMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.claimNext({ leaseMs: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.claimNext({ waitMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.claimNext({ lease: 5 } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.heartbeat('t', {} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.heartbeat('t', { claimToken: 'x', leaseMs: -5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.tasks.complete('t', 1, { claimToken: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await engine.fingerprint(store)).toBe(before);
  });
});
