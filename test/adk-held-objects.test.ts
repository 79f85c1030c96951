import { createEvent, type Event, type Session } from '@google/adk';
import { expect, it } from 'vitest';
import { openStore, type Store } from '../src/store.js';
import { AbathurSessionService, type StalePolicy } from '../src/adk/index.js';
import { describeEachEngine } from './helpers/engines.js';

// A seeded random mix of calls on one ADK session: reads (whole, numRecentEvents,
// afterTimestamp) that hand out session objects, appends from those objects (new ids, ids
// the session has, events the object was handed, three at once from one to three objects, a read in
// flight), appends through another service (on SQLite: another store on the same file, as
// another process), trims, a delete and create of the same id, and callers that rearrange
// the array they were handed. After each step the service's cached read equals a read
// without the cache; after each append the appending object holds no event twice, its
// events line up with the stored log (one ends the other) with the stored content, and its
// state is the stored state (temp: keys aside). A refused append ('reject') changes nothing.

const RUNS = Number(process.env.ABATHUR_FUZZ_RUNS ?? 6);
const STEPS = 200;
const key = { appName: 'a', userId: 'u', sessionId: 's' };
type Plain = { events: { id: string }[]; state: Record<string, unknown> };
const json = (value: unknown): Plain => JSON.parse(JSON.stringify(value)) as Plain;
const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);
const noTemp = (state: Record<string, unknown>) => Object.fromEntries(Object.entries(state).filter(([k]) => !k.startsWith('temp:')));
/** Whether `a` ends `b`. */
const ends = (a: string[], b: string[]): boolean => a.length <= b.length && b.slice(b.length - a.length).join('\u0000') === a.join('\u0000');
/** Whether `a` is a run of consecutive items of `b`. */
const within = (a: string[], b: string[]): boolean => a.length === 0 || `\u0000${b.join('\u0000')}\u0000`.includes(`\u0000${a.join('\u0000')}\u0000`);

/** A session object handed out, and whether the checks still apply to it. */
interface Held {
  session: Session;
  /** False once it was sent the id of a stored event it does not hold (ADK pushes that event at its end). */
  inOrder: boolean;
  /** True once its caller rearranged its events, or an append from it was refused. */
  leftAlone: boolean;
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

describeEachEngine('ADK session objects and decoded histories under a random mix of calls', (engine) => {
  for (const onStale of ['reload', 'reject'] as StalePolicy[]) {
    for (let seed = 1; seed <= RUNS; seed++) {
      it(`onStale '${onStale}', seed ${seed}`, async () => {
        const r = random(seed * 7919 + (onStale === 'reject' ? 1 : 0));
        const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
        const store = await engine.open();
        const elsewhere: Store = engine.name === 'sqlite' ? await openStore({ path: store.path, readers: 1 }) : store;
        try {
          const service = new AbathurSessionService(store, { onStale });
          const uncached = new AbathurSessionService(store, { decodeCacheBytes: 0 });
          const other = new AbathurSessionService(elsewhere);
          let time = 1000;
          let n = 0;
          const event = (id: string): Event => {
            const stateDelta: Record<string, unknown> = {};
            for (const k of ['k1', 'k2', 'app:a', 'user:p', 'temp:t']) if (r() < 0.3) stateDelta[k] = n;
            return createEvent({ id, author: 'agent', invocationId: 'i', timestamp: time++, content: { role: 'model', parts: [{ text: `${id}#${n++}` }] }, actions: { stateDelta } });
          };
          const stored = async (): Promise<Plain> => json(await uncached.getSession(key));
          const held: Held[] = [];
          const check = async (h: Held, step: string, afterRace: boolean): Promise<void> => {
            if (h.leftAlone || !h.inOrder) return;
            const now = await stored();
            const mine = json(h.session);
            const [have, log] = [ids(mine.events), ids(now.events)];
            expect(new Set(have).size, `${step}: ${have.join()}`).toBe(have.length);
            if (afterRace) {
              // Others appended after it: what it holds is a run of the log, bar events trimmed since.
              const first = have.findIndex((id) => log.includes(id));
              expect(within(first < 0 ? [] : have.slice(first), log), `${step}: ${have.join()} in ${log.join()}`).toBe(true);
              return;
            }
            expect(ends(have, log) || ends(log, have), `${step}: ${have.join()} vs ${log.join()}`).toBe(true);
            const byId = new Map(now.events.map((e) => [e.id, e]));
            for (const e of mine.events) if (byId.has(e.id)) expect(e, step).toEqual(byId.get(e.id));
            expect(noTemp(mine.state), step).toEqual(now.state);
          };
          const append = async (h: Held, sent: Event, step: string, atOnce = false): Promise<void> => {
            // (Appends sent at once on one object take turns: a refused one finds the object as the one before it left it.)
            const before = atOnce ? undefined : json(h.session);
            try {
              await service.appendEvent({ session: h.session, event: sent });
            } catch (error) {
              expect(onStale, `${step}: ${String(error)}`).toBe('reject');
              expect(error, step).toMatchObject({ code: 'CONFLICT' });
              if (before !== undefined) expect(json(h.session), step).toEqual(before);
              h.leftAlone = true;
            }
          };
          /** An id for an append from `h`: mostly new, sometimes one the session has. */
          const idFor = (h: Held, log: string[], fresh: string): string => {
            const id = r() < 0.3 && log.length > 0 ? pick(log) : fresh;
            if (log.includes(id) && !h.session.events.some((e) => e.id === id)) h.inOrder = false;
            return id;
          };

          await service.createSession(key);
          for (let i = 0; i < STEPS; i++) {
            const step = `step ${i}`;
            const op = r();
            if (op < 0.2) {
              const c = r();
              const config = c < 0.2 ? { numRecentEvents: 1 + Math.floor(r() * 3) } : c < 0.35 ? { afterTimestamp: time - Math.floor(r() * 6) } : undefined;
              const request = config === undefined ? key : { ...key, config };
              const got = (await service.getSession(request))!;
              expect(json(got), step).toEqual(json(await uncached.getSession(request)));
              held.push({ session: got, inOrder: true, leftAlone: false });
            } else if (op < 0.3 && held.length > 1) {
              // Three appends at once, from one, two or three objects.
              const one = r() < 0.4;
              // One object: the newest handed out, sending new ids.
              const first = one ? held[held.length - 1]! : pick(held);
              const chosen = one ? [first, first, first] : [first, pick(held), pick(held)];
              const log = ids((await stored()).events);
              const shared = `e${n}`;
              const sent = chosen.map((h) => {
                if (one) return event(`e${n}`);
                const id = r() < 0.3 ? shared : idFor(h, log, `e${n}`);
                // Two objects sending one new id: which one appends and which replaces is the race's.
                if (id === shared) h.inOrder = false;
                return event(id);
              });
              const [read] = await Promise.all([service.getSession(key), ...chosen.map((h, j) => append(h, sent[j]!, step, true))]);
              held.push({ session: read as Session, inOrder: true, leftAlone: false });
              for (const h of new Set(chosen)) await check(h, `${step} (at once)`, true);
            } else if (op < 0.33 && held.length > 0) {
              const h = pick(held);
              h.session.events.pop();
              h.session.events.push(event('local'));
              h.session.events.reverse();
              h.leftAlone = true;
            } else if (op < 0.6 && held.length > 0) {
              const h = pick(held);
              const id = idFor(h, ids((await stored()).events), `e${n}`);
              const handed = h.session.events.filter((e) => e.id === id);
              await append(h, handed.length > 0 && r() < 0.5 ? pick(handed) : event(id), step);
              await check(h, step, false);
            } else if (op < 0.8) {
              const session = (await other.getSession(key))!;
              const log = ids(session.events);
              await other.appendEvent({ session, event: event(r() < 0.3 && log.length > 0 ? pick(log) : `e${n}`) });
            } else if (op < 0.9) {
              const rows = await engine.rows(store, "SELECT session_id FROM adk_sessions WHERE id = 's'");
              await elsewhere.sessions.trimEvents(String(rows[0]!.session_id), { keepLast: 1 + Math.floor(r() * 4) });
            } else if (op < 0.93) {
              await other.deleteSession(key);
              await other.createSession(key);
            }
            expect(json(await service.getSession(key)), `${step}: read`).toEqual(await stored());
          }
        } finally {
          if (elsewhere !== store) await elsewhere.close();
        }
      }, 120_000);
    }
  }
});
