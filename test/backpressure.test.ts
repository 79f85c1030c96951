import { describe, expect, it } from 'vitest';
import { openTestStore, settleAll } from './helpers/store.js';

describe('backpressure', () => {
  it('rejects reads past maxQueue at once with OVERLOADED; every accepted read completes', async () => {
    const store = await openTestStore({ maxQueue: 8, readers: 1 });
    const session = await store.sessions.create({ appName: 'b', userId: 'u' });
    const started = performance.now();
    const calls = Array.from({ length: 100 }, () => store.sessions.get(session.id));
    const { values, errors } = await settleAll(calls);
    expect(values.length).toBe(8);
    expect(values.every((s) => s?.id === session.id)).toBe(true);
    expect(errors).toHaveLength(92);
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['OVERLOADED']));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(store.stats().queues.read).toBe(0);
  });

  it('rejects writes past maxQueue at once; nothing rejected was written, everything accepted was', async () => {
    const store = await openTestStore({ maxQueue: 5 });
    const calls = Array.from({ length: 40 }, (_, i) => store.sessions.create({ id: `s${i}`, appName: 'b', userId: 'u' }));
    const outcomes = await Promise.allSettled(calls);
    const accepted = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    expect(accepted).toHaveLength(5);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'OVERLOADED' });
    for (const i of accepted) expect(await store.sessions.get(`s${i}`)).toBeDefined();
    for (const i of rejected) expect(await store.sessions.get(`s${i}`)).toBeUndefined();
  });
});
