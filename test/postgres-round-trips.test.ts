import { writeFileSync } from 'node:fs';
import { createEvent } from '@google/adk';
import { emptyCheckpoint, uuid6 } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { AbathurMemoryService, AbathurSessionService } from '../src/adk/index.js';
import { AbathurSaver, AbathurStore } from '../src/langgraph/index.js';
import { loseAnswerOnce, roundTrips } from './helpers/pg-wire.js';
import { openPostgresTestStore } from './helpers/postgres.js';

// Each call on PostgreSQL waits for the server this many times (its round trips). A write
// sends BEGIN with its first statement and its audit rows with its COMMIT (one pipelined
// round trip each), so a write of n statements costs n + 1; a read of one statement, 1.
// An operation with more than it needs is a defect: this table is the check, and
// docs/PERFORMANCE.md lists it (ABATHUR_ROUND_TRIPS=<file> writes it there).

/** Round trips per call, by operation; why each is what it is in docs/PERFORMANCE.md. */
const EXPECTED: Record<string, number> = {
  'sessions.create': 2,
  'sessions.appendEvent': 2,
  'sessions.appendEvent eventId': 4,
  'sessions.appendEvent eventId, again': 3,
  'sessions.appendEvents': 2,
  'sessions.get': 1,
  'sessions.get lastEvents': 1,
  'sessions.events': 1,
  'sessions.trimEvents': 4,
  'sessions.setStatus': 3,
  'sessions.getState': 1,
  'sessions.setState': 2,
  'sessions.listByUser': 1,
  'memory.add': 2,
  'memory.get': 1,
  'memory.update': 2,
  'memory.update expectedVersion': 2,
  'memory.history': 1,
  'memory.search': 1,
  'memory.context': 1,
  'memory.rollback': 3,
  'memory.delete': 2,
  'memory.expireEpisodic': 5,
  'documents.upsert': 2,
  'documents.get': 1,
  'documents.markSynced': 3,
  'tasks.create': 2,
  'tasks.get': 1,
  'tasks.claimNext': 2, // the lease sweep (issue 23), the claim and the next lease's end go out with the BEGIN
  'agents.spawn': 2,
  'agents.get': 1,
  'tasks.complete': 2,
  'tasks.heartbeat': 2, // the task's ended lease is handed back in the same round trip as the extension
  'tasks.complete claimToken': 2, // likewise
  'checkpoints.save': 2,
  'checkpoints.latest': 1,
  'state.set': 2,
  'state.get': 1,
  'audit.list': 1,
  'metrics.record': 2,
  'metrics.query': 1,
  'sessions.delete': 2,
  'AbathurSaver.put': 2,
  'AbathurSaver.putWrites': 2,
  'AbathurSaver.getTuple': 1,
  'AbathurStore.put': 2,
  'AbathurStore.put 3 items': 4,
  'AbathurStore.get': 1,
  'AbathurStore.search': 1,
  'AbathurStore.search filter': 2,
  'AbathurSessionService.createSession': 2,
  'AbathurSessionService.appendEvent': 3,
  'AbathurSessionService.getSession': 1,
  'AbathurMemoryService.addSessionToMemory': 3,
  'AbathurMemoryService.searchMemory': 1,
};

describe('round trips per call on PostgreSQL', () => {
  it('each operation waits for the server as often as listed, no more', { timeout: 120_000 }, async () => {
    const store = await openPostgresTestStore();
    const measured: Record<string, number> = {};
    const statements: Record<string, string[]> = {};
    const count = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
      const result = await roundTrips(call);
      measured[name] = result.trips;
      statements[name] = result.statements;
      return result.value;
    };
    const { sessions, memory, documents, tasks, agents, checkpoints, state, audit, metrics } = store;

    await count('sessions.create', () => sessions.create({ id: 's', appName: 'app', userId: 'u', projectId: 'p' }));
    await count('sessions.appendEvent', () => sessions.appendEvent('s', { n: 1 }, { stateDelta: { n: 1 } }));
    await count('sessions.appendEvent eventId', () => sessions.appendEvent('s', { n: 2 }, { eventId: 'e2' }));
    await count('sessions.appendEvent eventId, again', () => sessions.appendEvent('s', { n: 2 }, { eventId: 'e2' }));
    await count('sessions.appendEvents', () => sessions.appendEvents('s', [{ event: { n: 3 } }, { event: { n: 4 } }]));
    await count('sessions.get', () => sessions.get('s'));
    await count('sessions.get lastEvents', () => sessions.get('s', { lastEvents: 2 }));
    await count('sessions.events', () => sessions.events('s', { limit: 2 }));
    await count('sessions.trimEvents', () => sessions.trimEvents('s', { keepLast: 3 }));
    await count('sessions.setStatus', () => sessions.setStatus('s', 'active'));
    await count('sessions.getState', () => sessions.getState('s', 'n'));
    await count('sessions.setState', () => sessions.setState('s', { n: 5 }));
    await count('sessions.listByUser', () => sessions.listByUser('u'));

    await count('memory.add', () => memory.add({ namespace: 'user:u', key: 'k', value: 1, type: 'semantic' }));
    await memory.add({ namespace: 'session:s', key: 'e', value: 1, type: 'episodic' });
    await count('memory.get', () => memory.get('user:u', 'k'));
    await count('memory.update', () => memory.update('user:u', 'k', 2));
    await count('memory.update expectedVersion', () => memory.update('user:u', 'k', 3, { expectedVersion: 2 }));
    await count('memory.history', () => memory.history('user:u', 'k'));
    await count('memory.search', () => memory.search({ namespacePrefix: 'user' }));
    const context = await count('memory.context', () => memory.context({ sessionId: 's', userId: 'u', appName: 'app', projectId: 'p' }));
    expect(context.user.map((e) => e.value)).toEqual([3]);
    expect(context.session.map((e) => e.key)).toEqual(['e']);
    await count('memory.rollback', () => memory.rollback('user:u', 'k'));
    await count('memory.delete', () => memory.delete('user:u', 'k'));
    await count('memory.expireEpisodic', () => memory.expireEpisodic(new Date(Date.now() + 60_000).toISOString()));

    await count('documents.upsert', () => documents.upsert({ filePath: '/a.md', title: 'a', contentHash: 'h1', documentType: 'report' }));
    await count('documents.get', () => documents.get('/a.md'));
    await count('documents.markSynced', () => documents.markSynced('/a.md', { embedding: new Float32Array([1, 2]), embeddingModel: 'm' }));

    await count('tasks.create', () => tasks.create({ id: 't', prompt: 'p', inputData: {}, sessionId: 's' }));
    await count('tasks.get', () => tasks.get('t'));
    await count('tasks.claimNext', () => tasks.claimNext());
    await count('agents.spawn', () => agents.spawn({ id: 'a', name: 'n', specialization: 's', taskId: 't', model: 'm' }));
    await count('agents.get', () => agents.get('a'));
    await count('tasks.complete', () => tasks.complete('t', { ok: true }));
    await tasks.create({ id: 't2', prompt: 'p', inputData: {} });
    const leased = (await tasks.claimNext())!;
    await count('tasks.heartbeat', () => tasks.heartbeat('t2', { claimToken: leased.claimToken! }));
    await count('tasks.complete claimToken', () => tasks.complete('t2', null, { claimToken: leased.claimToken! }));
    await count('checkpoints.save', () => checkpoints.save({ taskId: 't', iteration: 1, state: { x: 1 } }));
    await count('checkpoints.latest', () => checkpoints.latest('t'));
    await count('state.set', () => state.set('t', 'k', 1));
    await count('state.get', () => state.get('t', 'k'));
    await count('audit.list', () => audit.list({ taskId: 't' }));
    await count('metrics.record', () => metrics.record('m', 1));
    await count('metrics.query', () => metrics.query({ name: 'm' }));
    await count('sessions.delete', () => sessions.delete('s'));

    const saver = new AbathurSaver(store);
    const config = { configurable: { thread_id: 'th', checkpoint_ns: '' } };
    const checkpoint = { ...emptyCheckpoint(), id: uuid6(-1), channel_values: { a: 'x' }, channel_versions: { a: 1 } };
    const saved = await count('AbathurSaver.put', () => saver.put(config, checkpoint, { source: 'input', step: -1, parents: {} }, { a: 1 }));
    await count('AbathurSaver.putWrites', () => saver.putWrites(saved, [['a', 'y']], 'task1'));
    await count('AbathurSaver.getTuple', () => saver.getTuple(saved));

    const lgStore = new AbathurStore(store);
    await count('AbathurStore.put', () => lgStore.put(['docs', 'u'], 'k1', { n: 1 }));
    await count('AbathurStore.put 3 items', () =>
      lgStore.batch([
        { namespace: ['docs', 'u'], key: 'k2', value: { n: 2 } },
        { namespace: ['docs', 'u'], key: 'k3', value: { n: 3 } },
        { namespace: ['docs', 'v'], key: 'k4', value: { n: 4 } },
      ]),
    );
    await count('AbathurStore.get', () => lgStore.get(['docs', 'u'], 'k1'));
    const found = await count('AbathurStore.search', () => lgStore.search(['docs']));
    expect(found.map((item) => item.key)).toEqual(['k1', 'k2', 'k3', 'k4']);
    const filtered = await count('AbathurStore.search filter', () => lgStore.search(['docs'], { filter: { n: 3 } }));
    expect(filtered.map((item) => item.key)).toEqual(['k3']);

    const adk = new AbathurSessionService(store);
    const session = await count('AbathurSessionService.createSession', () => adk.createSession({ appName: 'app', userId: 'u', sessionId: 'adk' }));
    await count('AbathurSessionService.appendEvent', () =>
      adk.appendEvent({ session, event: createEvent({ author: 'user', invocationId: 'i', content: { role: 'user', parts: [{ text: 'hello' }] } }) }),
    );
    const loaded = await count('AbathurSessionService.getSession', () => adk.getSession({ appName: 'app', userId: 'u', sessionId: 'adk' }));
    const adkMemory = new AbathurMemoryService(store);
    await count('AbathurMemoryService.addSessionToMemory', () => adkMemory.addSessionToMemory(loaded!));
    await count('AbathurMemoryService.searchMemory', () => adkMemory.searchMemory({ appName: 'app', userId: 'u', query: 'hello' }));

    if (process.env.ABATHUR_ROUND_TRIPS !== undefined) {
      const lines = Object.entries(measured).map(([name, trips]) => `${name}\t${trips}\t${statements[name]!.map((s) => s.split(' ')[0]).join(' ')}`);
      writeFileSync(process.env.ABATHUR_ROUND_TRIPS, `${lines.join('\n')}\n`);
    }
    expect(measured).toEqual(EXPECTED);
  });

  it('a write whose COMMIT answer was lost is OUTCOME_UNKNOWN, and its retry with the same eventId finds the committed event', async () => {
    const store = await openPostgresTestStore();
    await store.sessions.create({ id: 's', appName: 'app', userId: 'u' });
    loseAnswerOnce((text) => text === 'COMMIT');
    await expect(store.sessions.appendEvent('s', { n: 1 }, { eventId: 'e1' })).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(await store.sessions.appendEvent('s', { n: 1 }, { eventId: 'e1' })).toMatchObject({ seq: 1, eventCount: 1 });
    expect((await store.sessions.get('s'))!.events).toEqual([{ n: 1 }]);
    const appends = (await store.audit.list()).items.filter((row) => row.actionType === 'session_append_event');
    expect(appends).toHaveLength(1);
  });
});
