import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ERROR_CODES, StoreError } from '../src/api/errors.js';
import type { Store } from '../src/store.js';
import type { JsonValue } from '../src/api/types.js';
import { describeEachEngine } from './helpers/engines.js';
import { cleanup, testTmpRoot } from './helpers/temp.js';

const RUNS = Number(process.env.ABATHUR_FUZZ_RUNS ?? 25);

const cyclic = (): unknown => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};

/** Strings an attacker or a bug might send: quotes, SQL, JSON-path syntax, control and odd characters. */
const hostile = fc.oneof(
  fc.constantFrom(
    "'; DROP TABLE sessions; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    '$',
    '$.state',
    '$[#]',
    'user:alice',
    'user:',
    ':',
    '::',
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '%',
    '_',
    '\\',
    'NULL',
    'null',
    '🙂 emoji',
    '\ud800',
    'x'.repeat(5000),
    '?',
    '@id',
    ':name',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Values JSON cannot hold, or holds differently, and plain wrong types. */
const nonJson = fc.constantFrom<unknown>(
  () => 1,
  10n,
  Symbol('s'),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  undefined,
  new Date(0),
  new Map([[1, 2]]),
  new Set([1]),
  cyclic(),
  [undefined],
  { nested: { fn: () => 1 } },
  new Float32Array(2),
);

const anything = fc.oneof(fc.anything(), nonJson, hostile, fc.integer(), fc.double(), fc.constant(null));
// The stores below run with small payload limits, so values over them are cheap to draw.
const LIMITS = { maxPayloadBytes: 4096, maxStateBytes: 4096 } as const;
/** Strings near the limit: some fit, most do not, some only in characters (3-byte ones). */
const sizable = fc.oneof(
  fc.string({ minLength: 3000, maxLength: 5000 }),
  fc.string({ unit: fc.constantFrom('é', '漢', '🙂'), minLength: 1000, maxLength: 2000 }),
);
const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nonJson, sizable, fc.array(sizable, { maxLength: 2 }));
const jsonObject = fc.oneof(
  fc.dictionary(hostile, fc.oneof(fc.jsonValue({ maxDepth: 2 }), sizable), { maxKeys: 4 }),
  anything,
);
const id = fc.oneof(fc.constantFrom('s1', 't1', 'a1', 'missing'), hostile, anything);
const ns = fc.oneof(fc.constantFrom('user:alice', 'user:alice:prefs', 'session:s1'), hostile, anything);
const key = fc.oneof(fc.constantFrom('theme', 'k'), hostile, anything);
const opts = (shape: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(fc.constant(undefined), fc.record(shape, { requiredKeys: [] }), anything, fc.dictionary(hostile, anything, { maxKeys: 3 }));
const ctx = fc.oneof(fc.constant(undefined), fc.record({ taskId: id, agentId: id }, { requiredKeys: [] }), anything);
const limitish = fc.oneof(fc.integer({ min: -5, max: 2000 }), anything);

const backupDir = mkdtempSync(join(testTmpRoot(), 'abathur-fuzz-backups-'));
cleanup(() => rmSync(backupDir, { recursive: true, force: true }));
const backupPath = hostile.filter((name) => !name.includes('/')).map((name) => join(backupDir, name));

type Call = (store: Store, args: unknown[]) => Promise<unknown>;
// Each public method, with arbitraries for its arguments: plausible values mixed with garbage.
const methods: Record<string, [fc.Arbitrary<unknown[]>, Call]> = {
  'sessions.create': [fc.tuple(opts({ id, appName: key, userId: key, projectId: id, state: jsonObject, metadata: jsonObject, ctx })), (s, [a]) => s.sessions.create(a as never)],
  'sessions.get': [fc.tuple(id, opts({ lastEvents: limitish })), (s, [a, b]) => s.sessions.get(a as never, b as never)],
  'sessions.appendEvent': [fc.tuple(id, jsonValue, opts({ eventId: id, stateDelta: jsonObject, ctx })), (s, [a, b, c]) => s.sessions.appendEvent(a as never, b as never, c as never)],
  'sessions.appendEvents': [fc.tuple(id, fc.oneof(fc.array(opts({ event: jsonValue, eventId: id }), { maxLength: 4 }), anything), opts({ stateDelta: jsonObject, ctx })), (s, [a, b, c]) => s.sessions.appendEvents(a as never, b as never, c as never)],
  'sessions.events': [fc.tuple(id, opts({ afterSeq: limitish, beforeSeq: limitish, limit: limitish, order: fc.oneof(fc.constantFrom('asc', 'desc'), anything), cursor: hostile })), (s, [a, b]) => s.sessions.events(a as never, b as never)],
  'sessions.trimEvents': [fc.tuple(id, opts({ keepLast: limitish, ctx })), (s, [a, b]) => s.sessions.trimEvents(a as never, b as never)],
  'sessions.setStatus': [fc.tuple(id, fc.oneof(fc.constantFrom('active', 'paused', 'terminated', 'archived', 'created'), anything), opts({ ctx })), (s, [a, b, c]) => s.sessions.setStatus(a as never, b as never, c as never)],
  'sessions.getState': [fc.tuple(id, fc.oneof(hostile, anything)), (s, [a, b]) => s.sessions.getState(a as never, b as never)],
  'sessions.setState': [fc.tuple(id, jsonObject, opts({ ctx })), (s, [a, b, c]) => s.sessions.setState(a as never, b as never, c as never)],
  'sessions.listByUser': [fc.tuple(id, opts({ limit: limitish, cursor: hostile, lastEvents: limitish })), (s, [a, b]) => s.sessions.listByUser(a as never, b as never)],
  'sessions.listByProject': [fc.tuple(id, opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.sessions.listByProject(a as never, b as never)],
  'sessions.delete': [fc.tuple(fc.oneof(hostile, anything), opts({ ctx })), (s, [a, b]) => s.sessions.delete(a as never, b as never)],
  'memory.add': [fc.tuple(opts({ namespace: ns, key, value: jsonValue, type: fc.oneof(fc.constantFrom('semantic', 'episodic', 'procedural'), anything), metadata: jsonObject, createdBy: id, ctx })), (s, [a]) => s.memory.add(a as never)],
  'memory.get': [fc.tuple(ns, key, opts({ version: limitish })), (s, [a, b, c]) => s.memory.get(a as never, b as never, c as never)],
  'memory.update': [fc.tuple(ns, key, jsonValue, opts({ expectedVersion: limitish, updatedBy: id, metadata: jsonObject, ctx })), (s, [a, b, c, d]) => s.memory.update(a as never, b as never, c as never, d as never)],
  'memory.delete': [fc.tuple(ns, key, opts({ ctx })), (s, [a, b, c]) => s.memory.delete(a as never, b as never, c as never)],
  'memory.rollback': [fc.tuple(ns, key, opts({ ctx })), (s, [a, b, c]) => s.memory.rollback(a as never, b as never, c as never)],
  'memory.history': [fc.tuple(ns, key, opts({ limit: limitish, cursor: hostile })), (s, [a, b, c]) => s.memory.history(a as never, b as never, c as never)],
  'memory.search': [fc.tuple(opts({ namespacePrefix: ns, type: anything, limit: limitish, cursor: hostile })), (s, [a]) => s.memory.search(a as never)],
  'memory.context': [fc.tuple(opts({ sessionId: id, userId: id, appName: id, projectId: id, limit: limitish })), (s, [a]) => s.memory.context(a as never)],
  'memory.expireEpisodic': [fc.tuple(fc.oneof(fc.date(), fc.integer(), hostile, anything), opts({ ctx })), (s, [a, b]) => s.memory.expireEpisodic(a as never, b as never)],
  'documents.upsert': [fc.tuple(opts({ filePath: id, title: hostile, documentType: anything, contentHash: id, chunkCount: limitish, metadata: jsonObject, ctx })), (s, [a]) => s.documents.upsert(a as never)],
  'documents.get': [fc.tuple(id), (s, [a]) => s.documents.get(a as never)],
  'documents.listByType': [fc.tuple(fc.oneof(fc.constantFrom('design', 'plan'), anything), opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.documents.listByType(a as never, b as never)],
  'documents.pendingSync': [fc.tuple(opts({ limit: limitish, cursor: hostile })), (s, [a]) => s.documents.pendingSync(a as never)],
  'documents.markSynced': [fc.tuple(id, opts({ embedding: fc.oneof(fc.constant(new Float32Array([1, 2])), anything), embeddingModel: id, contentHash: id, ctx })), (s, [a, b]) => s.documents.markSynced(a as never, b as never)],
  'documents.markFailed': [fc.tuple(id, opts({ error: hostile, ctx })), (s, [a, b]) => s.documents.markFailed(a as never, b as never)],
  'documents.delete': [fc.tuple(id, opts({ ctx })), (s, [a, b]) => s.documents.delete(a as never, b as never)],
  'tasks.create': [fc.tuple(opts({ id, prompt: hostile, inputData: jsonValue, agentType: id, priority: limitish, parentTaskId: id, dependencies: fc.oneof(fc.array(id, { maxLength: 3 }), anything), sessionId: id, createdBy: id, maxRetries: limitish, maxExecutionTimeoutSeconds: limitish, ctx })), (s, [a]) => s.tasks.create(a as never)],
  'tasks.get': [fc.tuple(id), (s, [a]) => s.tasks.get(a as never)],
  'tasks.getWithSession': [fc.tuple(id), (s, [a]) => s.tasks.getWithSession(a as never)],
  'tasks.listBySession': [fc.tuple(id, opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.tasks.listBySession(a as never, b as never)],
  'tasks.listChildren': [fc.tuple(id, opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.tasks.listChildren(a as never, b as never)],
  'tasks.claimNext': [fc.tuple(opts({ agentType: id, ctx })), (s, [a]) => s.tasks.claimNext(a as never)],
  'tasks.complete': [fc.tuple(id, jsonValue, opts({ ctx })), (s, [a, b, c]) => s.tasks.complete(a as never, b as never, c as never)],
  'tasks.fail': [fc.tuple(id, hostile, opts({ retry: anything, ctx })), (s, [a, b, c]) => s.tasks.fail(a as never, b as never, c as never)],
  'tasks.cancel': [fc.tuple(id, opts({ ctx })), (s, [a, b]) => s.tasks.cancel(a as never, b as never)],
  'agents.spawn': [fc.tuple(opts({ id, name: hostile, specialization: hostile, taskId: id, model: id, sessionId: id, resourceUsage: jsonValue, ctx })), (s, [a]) => s.agents.spawn(a as never)],
  'agents.get': [fc.tuple(id), (s, [a]) => s.agents.get(a as never)],
  'agents.listBySession': [fc.tuple(id, opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.agents.listBySession(a as never, b as never)],
  'agents.listByTask': [fc.tuple(id, opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.agents.listByTask(a as never, b as never)],
  'agents.setState': [fc.tuple(id, anything, opts({ resourceUsage: jsonValue, ctx })), (s, [a, b, c]) => s.agents.setState(a as never, b as never, c as never)],
  'agents.terminate': [fc.tuple(id, opts({ resourceUsage: jsonValue, ctx })), (s, [a, b]) => s.agents.terminate(a as never, b as never)],
  'checkpoints.save': [fc.tuple(opts({ taskId: id, iteration: limitish, state: jsonValue, sessionId: id, ctx })), (s, [a]) => s.checkpoints.save(a as never)],
  'checkpoints.get': [fc.tuple(id, limitish), (s, [a, b]) => s.checkpoints.get(a as never, b as never)],
  'checkpoints.latest': [fc.tuple(id), (s, [a]) => s.checkpoints.latest(a as never)],
  'checkpoints.list': [fc.tuple(id, opts({ limit: limitish, cursor: hostile })), (s, [a, b]) => s.checkpoints.list(a as never, b as never)],
  'state.get': [fc.tuple(id, key), (s, [a, b]) => s.state.get(a as never, b as never)],
  'state.set': [fc.tuple(id, key, jsonValue, opts({ ctx })), (s, [a, b, c, d]) => s.state.set(a as never, b as never, c as never, d as never)],
  'audit.list': [fc.tuple(opts({ taskId: id, agentId: id, namespacePrefix: ns, memoryOperation: anything, since: anything, limit: limitish, cursor: hostile })), (s, [a]) => s.audit.list(a as never)],
  'metrics.record': [fc.tuple(hostile, fc.oneof(fc.double(), fc.integer()), opts({ labels: jsonObject, ctx })), (s, [a, b, c]) => s.metrics.record(a as never, b as never, c as never)],
  'metrics.query': [fc.tuple(opts({ name: hostile, since: anything, until: anything, limit: limitish, cursor: hostile })), (s, [a]) => s.metrics.query(a as never)],
  // Backups write files: every string path drawn lands in a scratch directory.
  backup: [fc.tuple(fc.oneof(backupPath, anything.filter((v) => typeof v !== 'string'))), (s, [a]) => s.backup(a as never)],
};

describeEachEngine('bad input, property-based', (engine) => {
  it('covers every public method', async () => {
    const store = await engine.open();
    const services = ['sessions', 'memory', 'documents', 'tasks', 'agents', 'checkpoints', 'state', 'audit', 'metrics'] as const;
    const publicMethods = services.flatMap((service) =>
      Object.getOwnPropertyNames(Object.getPrototypeOf(store[service])).filter((m) => m !== 'constructor').map((m) => `${service}.${m}`),
    );
    expect(publicMethods.filter((m) => methods[m] === undefined)).toEqual([]);
  });

  it.each(Object.keys(methods))('%s: rejects with a typed error and changes nothing, or succeeds', async (name) => {
    const store = await engine.open(LIMITS);
    await store.sessions.create({ id: 's1', appName: 'app', userId: 'alice' });
    await store.tasks.create({ id: 't1', prompt: 'p', inputData: {}, sessionId: 's1' });
    await store.agents.spawn({ id: 'a1', name: 'n', specialization: 's', taskId: 't1', model: 'm' });
    await store.memory.add({ namespace: 'user:alice', key: 'theme', value: 'dark', type: 'semantic' });
    await store.documents.upsert({ filePath: 'doc.md', title: 'D', contentHash: 'h' });
    const [args, call] = methods[name]!;
    let rejected = 0;
    let succeeded = 0;
    await fc.assert(
      fc.asyncProperty(args, async (values) => {
        const before = await engine.fingerprint(store);
        try {
          await call(store, values);
          succeeded++;
        } catch (error) {
          rejected++;
          expect(error).toBeInstanceOf(StoreError);
          expect(ERROR_CODES).toContain((error as StoreError).code);
          // Bad input is the caller's fault: never mistaken for the store's own defect.
          expect((error as StoreError).code, (error as StoreError).message).not.toBe('INTERNAL');
          expect((error as StoreError).message.length).toBeGreaterThan(0);
          expect(await engine.fingerprint(store)).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
    expect(rejected + succeeded).toBe(RUNS);
    expect(rejected).toBeGreaterThan(0);
  });

  it('holds the payload limits for any value: accepted exactly when its JSON fits, a session state never past its limit', async () => {
    const store = await engine.open(LIMITS);
    const { id } = await store.sessions.create({ id: 's1', appName: 'app', userId: 'alice' });
    await store.tasks.create({ id: 't1', prompt: 'p', inputData: {} });
    let accepted = 0;
    let refused = 0;
    // Only values the engine can hold: PostgreSQL refuses NUL and lone surrogates whatever their size.
    const holdable = fc.oneof(fc.jsonValue({ maxDepth: 2 }), sizable).filter((v) => engine.canHold(v));
    await fc.assert(
      fc.asyncProperty(holdable, fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(sizable, fc.constant(null)), { maxKeys: 2 }), async (value, delta) => {
        const fits = Buffer.byteLength(JSON.stringify(value), 'utf8') <= LIMITS.maxPayloadBytes;
        const before = await engine.fingerprint(store);
        const set = await store.state.set('t1', 'k', value as JsonValue).then(
          () => true,
          (error: StoreError) => (expect(error.code).toBe('INVALID_ARGUMENT'), false),
        );
        expect(set).toBe(fits);
        if (!set) expect(await engine.fingerprint(store)).toBe(before);
        // Deltas grow or shrink the state; whatever is accepted, the stored state stays within its limit.
        const merged = await store.sessions.appendEvent(id, 'turn', { stateDelta: delta }).then(
          () => true,
          (error: StoreError) => (expect(error.code).toBe('INVALID_ARGUMENT'), false),
        );
        if (merged) accepted++;
        else refused++;
        expect(await engine.stateBytes(store, id)).toBeLessThanOrEqual(LIMITS.maxStateBytes);
      }),
      { numRuns: RUNS * 2 },
    );
    // Both sides of each limit were reached.
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('stores hostile strings as data: keys, namespaces and state keys round-trip exactly', async () => {
    const store = await engine.open();
    const { id } = await store.sessions.create({ appName: 'app', userId: 'alice' });
    const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !s.includes(':') && !/[\u0000-\u001f\u007f]/.test(s));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(segment, fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), fc.jsonValue({ maxDepth: 2 }).filter((v) => engine.canHold(v)), async (seg, k, json) => {
        const value = json as JsonValue;
        const namespace = `user:${seg}:n${n++}`;
        await store.memory.add({ namespace, key: k, value, type: 'semantic' });
        // Exactly what JSON makes of it (-0 is stored as 0, as JSON.stringify writes it).
        expect((await store.memory.get(namespace, k))?.value).toStrictEqual(JSON.parse(JSON.stringify(value)));
        expect((await store.memory.search({ namespacePrefix: namespace })).items.map((e) => e.key)).toEqual([k]);
        // State takes JSON merge patches (objects merge, null deletes): a string value round-trips as is.
        await store.sessions.setState(id, { [k]: namespace });
        expect(await store.sessions.getState(id, k)).toBe(namespace);
      }),
      { numRuns: RUNS * 2 },
    );
    // Nothing hostile reached the schema.
    expect((await store.check()).ok).toBe(true);
  });
});
