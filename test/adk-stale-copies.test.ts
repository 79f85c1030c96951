import { createEvent, type Session } from '@google/adk';
import { expect, it } from 'vitest';
import { AbathurSessionService } from '../src/adk/index.js';
import { describeEachEngine } from './helpers/engines.js';
import { settleAll } from './helpers/store.js';

// 64 copies of one session, read at the same version, each appending at once: the append
// race that ADK's DatabaseSessionService settles by locking and reloading. On a real store
// (writer thread, reader pool): the 64 appends meet in the writer's group commit; on
// PostgreSQL, at the lock each append takes on the session's row.

const COPIES = 64;
const ROUNDS = 3;
const key = { appName: 'race', userId: 'u', sessionId: 's' };

async function copies(service: AbathurSessionService): Promise<Session[]> {
  return Promise.all(Array.from({ length: COPIES }, async () => (await service.getSession(key))!));
}

const eventFor = (round: number, i: number) =>
  createEvent({ id: `r${round}-c${i}`, author: 'agent', timestamp: 1000 * round + i, actions: { stateDelta: { [`k${i}`]: round, last: i, 'user:n': i } } });

describeEachEngine('appends from 64 stale copies of one session', (engine) => {
  it("with onStale 'reject': exactly one append succeeds per version, the others are refused CONFLICT and leave no trace", async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store, { onStale: 'reject' });
    await service.createSession(key);
    const winners: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const sessions = await copies(service);
      const { values, errors } = await settleAll(sessions.map((session, i) => service.appendEvent({ session, event: eventFor(round, i) })));
      expect(values).toHaveLength(1);
      expect(errors).toHaveLength(COPIES - 1);
      expect(errors.every((e) => e.code === 'CONFLICT')).toBe(true);
      winners.push(values[0]!.id);
      const stored = (await service.getSession(key))!;
      expect(stored.events.map((e) => e.id)).toEqual(winners);
      const winner = Number(values[0]!.id.split('-c')[1]);
      // Only the winner's keys: a refused append changed no scope.
      expect(stored.state).toMatchObject({ last: winner, 'user:n': winner, [`k${winner}`]: round });
      expect(Object.keys(stored.state).filter((k) => /^k\d+$/.test(k))).toHaveLength(new Set(winners.map((w) => w.split('-')[1])).size);
    }
  });

  it("with onStale 'reload': every append lands once, and each copy ends up with the stored history up to its own event", async () => {
    const store = await engine.open();
    const service = new AbathurSessionService(store, { onStale: 'reload' });
    await service.createSession(key);
    for (let round = 1; round <= ROUNDS; round++) {
      const sessions = await copies(service);
      const results = await Promise.all(sessions.map((session, i) => service.appendEvent({ session, event: eventFor(round, i) })));
      expect(results).toHaveLength(COPIES);
      const stored = (await service.getSession(key))!;
      const ids = stored.events.map((e) => e.id);
      expect(ids).toHaveLength(round * COPIES);
      expect(new Set(ids).size).toBe(ids.length);
      for (let i = 0; i < COPIES; i++) {
        expect(ids).toContain(`r${round}-c${i}`);
        expect(stored.state[`k${i}`]).toBe(round);
        const copy = sessions[i]!.events.map((e) => e.id);
        // The copy is a prefix of the stored log that holds its own event.
        expect(copy).toContain(`r${round}-c${i}`);
        expect(ids.slice(0, copy.length)).toEqual(copy);
      }
    }
  });
}, { threads: true });
