import { expect, it } from 'vitest';
import { AbathurSessionService } from '../src/adk/index.js';
import { describeEachEngine } from './helpers/engines.js';
import { settleAll } from './helpers/store.js';

// The first sessions of a new user, created all at once: each writes the app: and user:
// scopes that do not exist yet, so the 64 calls race to create the same two rows. ADK's
// DatabaseSessionService refused 63 of 64 such calls (a unique violation on the new user's
// state row); here every call must succeed and every key must land. On SQLite's real
// threads (the writer's group commit) and on PostgreSQL (64 transactions on a pool).

const SESSIONS = 64;

describeEachEngine(
  'the first 64 createSession calls of a new user, at once',
  (engine) => {
    it('all succeed, and the app: and user: scopes hold every session’s keys', async () => {
      const store = await engine.open();
      const service = new AbathurSessionService(store);
      const { values, errors } = await settleAll(
        Array.from({ length: SESSIONS }, (_, i) =>
          service.createSession({
            appName: 'fresh-app',
            userId: 'new-user',
            ...(i % 2 === 0 ? { sessionId: `s${i}` } : {}),
            state: { mine: i, [`user:seen:${i}`]: true, [`app:seen:${i}`]: i, 'temp:scratch': i },
          }),
        ),
      );
      expect(errors).toEqual([]);
      expect(values).toHaveLength(SESSIONS);
      expect(new Set(values.map((s) => s.id)).size).toBe(SESSIONS);
      const listed = await service.listSessions({ appName: 'fresh-app', userId: 'new-user' });
      expect(listed.totalItems).toBe(SESSIONS);
      // Each session's own key, and every key of both scopes: no merge lost another's write.
      const stored = await Promise.all(values.map((s) => service.getSession({ appName: 'fresh-app', userId: 'new-user', sessionId: s.id })));
      stored.forEach((session, i) => {
        const state = session!.state;
        expect(state.mine).toBe((values[i]!.state as { mine: number }).mine);
        expect(Object.keys(state).filter((k) => k.startsWith('user:seen:'))).toHaveLength(SESSIONS);
        expect(Object.keys(state).filter((k) => k.startsWith('app:seen:'))).toHaveLength(SESSIONS);
        expect(Object.keys(state).filter((k) => k.startsWith('temp:'))).toEqual([]);
      });
      const audit = await store.audit.list({ limit: 1000 });
      expect(audit.items.filter((e) => e.actionType === 'adk_session_create')).toHaveLength(SESSIONS);
    });
  },
  { threads: true },
);
