import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('read-your-writes', (engine) => {
  it('64 concurrent callers each see their own write immediately, round after round', async () => {
    const store = await engine.open();
    const callers = 64;
    const rounds = Number(process.env.ABATHUR_RYW_ROUNDS ?? 100);
    const sessions = await Promise.all(
      Array.from({ length: callers }, (_, i) => store.sessions.create({ appName: 'ryw', userId: `user${i}` })),
    );
    let misses = 0;
    let checks = 0;
    await Promise.all(
      sessions.map(async (session, caller) => {
        for (let round = 1; round <= rounds; round++) {
          await store.sessions.appendEvent(session.id, { caller, round }, { stateDelta: { round } });
          const seen = await store.sessions.get(session.id, { lastEvents: 1 });
          checks++;
          if (seen?.state.round !== round || (seen.events[0] as { round: number }).round !== round) misses++;
          await store.memory.add({ namespace: `user:user${caller}`, key: `k${round}`, value: round, type: 'semantic' });
          const memory = await store.memory.get(`user:user${caller}`, `k${round}`);
          checks++;
          if (memory?.value !== round) misses++;
        }
      }),
    );
    expect(checks).toBe(callers * rounds * 2);
    expect(misses).toBe(0);
    // The reads were really coalesced while this ran (SQLite's read batching; PostgreSQL has none).
    if (engine.name === 'sqlite') expect(store.stats().batches.read.max).toBeGreaterThan(1);
  });
}, { threads: true });
