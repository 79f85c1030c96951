import { expect, it } from 'vitest';
import { settleAll } from './helpers/store.js';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('under real concurrency', (engine) => {
  it('64 callers appending to one session: every event present exactly once, state merged', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'c', userId: 'u' });
    const callers = 64;
    const each = 10;
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        for (let i = 0; i < each; i++) {
          await store.sessions.appendEvent(id, { caller, i }, { stateDelta: { [`caller:${caller}`]: i } });
        }
      }),
    );
    const session = await store.sessions.get(id);
    const events = session!.events as { caller: number; i: number }[];
    expect(events).toHaveLength(callers * each);
    expect(new Set(events.map((e) => `${e.caller}/${e.i}`)).size).toBe(callers * each);
    // Each caller's events are in its own order.
    for (let caller = 0; caller < callers; caller++) {
      expect(events.filter((e) => e.caller === caller).map((e) => e.i)).toEqual([...Array(each).keys()]);
      expect(session!.state[`caller:${caller}`]).toBe(each - 1);
    }
    expect((await store.audit.list({ limit: 1000 })).items.filter((a) => a.actionType === 'session_append_event')).toHaveLength(callers * each);
  });

  it('64 workers calling claimNext over 1,000 tasks: none claimed twice, none lost', async () => {
    const store = await engine.open();
    const total = 1000;
    for (let start = 0; start < total; start += 200) {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.tasks.create({ id: `t${start + i}`, prompt: 'p', inputData: { n: start + i }, priority: 1 + ((start + i) % 10) })),
      );
    }
    const claimed: string[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let task = await store.tasks.claimNext(); task !== undefined; task = await store.tasks.claimNext()) {
          claimed.push(task.id);
          await store.tasks.complete(task.id, { by: 'worker' });
        }
      }),
    );
    expect(claimed).toHaveLength(total);
    expect(new Set(claimed).size).toBe(total);
    expect(await store.tasks.claimNext()).toBeUndefined();
    // Claims went out in priority order: nothing of priority p after the first of p + 1... per batch.
    const priorities = claimed.map((id) => 1 + (Number(id.slice(1)) % 10));
    expect(priorities[0]).toBe(1);
    expect(priorities[total - 1]).toBe(10);
  });

  it('64 concurrent updates with expectedVersion on one key: exactly one wins per version', async () => {
    const store = await engine.open();
    await store.memory.add({ namespace: 'user:race', key: 'k', value: 0, type: 'semantic' });
    const rounds = 5;
    for (let round = 1; round <= rounds; round++) {
      const { values, errors } = await settleAll(
        Array.from({ length: 64 }, (_, caller) => store.memory.update('user:race', 'k', { round, caller }, { expectedVersion: round })),
      );
      expect(values).toHaveLength(1);
      expect(values[0]!.version).toBe(round + 1);
      expect(errors).toHaveLength(63);
      expect(errors.every((e) => e.code === 'CONFLICT')).toBe(true);
    }
    const history = await store.memory.history('user:race', 'k', { limit: 100 });
    expect(history.items.map((e) => e.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });
}, { threads: true });
