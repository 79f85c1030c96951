import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbathurSaver, AbathurStore } from '../src/langgraph/index.js';
import { emptyCheckpoint, uuid6, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { openInProcessStore } from './helpers/in-process-store.js';
import { openPostgresTestStore } from './helpers/postgres.js';

// The same generated calls on a store of each engine give the same answers: the PostgreSQL
// engine's statements (the namespace walk as one recursive statement, filters over paged
// reads, list()'s examined window) against the SQLite engine's, which the adapters' own
// tests hold to LangGraph's behaviour.

const RUNS = Number(process.env.ABATHUR_FUZZ_RUNS ?? 40);
/** Each run opens a fresh PostgreSQL database: fewer runs, as in the ADK differential test. */
const PG_RUNS = Math.ceil(RUNS / 3);

const label = fc.constantFrom('a', 'b', 'ab', 'a-b', 'B', '*', 'é');
const namespace = fc.array(label, { minLength: 1, maxLength: 4 });
const value = fc.record({ n: fc.integer({ min: 0, max: 4 }), s: fc.constantFrom('x', 'y', '') }, { requiredKeys: ['n'] });
const put = fc.record({ namespace, key: fc.constantFrom('k1', 'k2', 'K'), value: fc.option(value, { freq: 5 }) });
const path = fc.array(label, { maxLength: 3 });
const listQuery = fc.record(
  {
    prefix: path,
    suffix: path,
    maxDepth: fc.integer({ min: 1, max: 4 }),
    limit: fc.integer({ min: 0, max: 8 }),
    offset: fc.integer({ min: 0, max: 4 }),
  },
  { requiredKeys: [] },
);
const filter = fc.oneof(
  fc.record({ n: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ n: fc.record({ $gt: fc.integer({ min: 0, max: 4 }) }) }),
  fc.record({ s: fc.record({ $in: fc.array(fc.constantFrom('x', 'y', ''), { maxLength: 2 }) }) }),
  fc.record({ s: fc.record({ $ne: fc.constantFrom('x', '') }), n: fc.record({ $lte: fc.integer({ min: 0, max: 4 }) }) }),
);
const searchQuery = fc.record(
  { prefix: path.filter((p) => !p.includes('*')), filter, limit: fc.integer({ min: 1, max: 8 }), offset: fc.integer({ min: 0, max: 4 }) },
  { requiredKeys: ['prefix', 'limit', 'offset'] },
);

describe('AbathurStore on SQLite and on PostgreSQL', () => {
  it('lists the same namespaces and finds the same items for the same generated puts and queries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(put, { minLength: 1, maxLength: 25 }),
        fc.array(listQuery, { minLength: 1, maxLength: 6 }),
        fc.array(searchQuery, { minLength: 1, maxLength: 6 }),
        async (puts, lists, searches) => {
          const [sqlite, postgres] = [new AbathurStore(await openInProcessStore()), new AbathurStore(await openPostgresTestStore())];
          for (const memory of [sqlite, postgres]) {
            for (const p of puts) await (p.value === null ? memory.delete(p.namespace, p.key) : memory.put(p.namespace, p.key, p.value));
          }
          for (const query of lists) {
            expect(await postgres.listNamespaces(query), JSON.stringify(query)).toEqual(await sqlite.listNamespaces(query));
          }
          const found = (items: { namespace: string[]; key: string; value: unknown }[]) => items.map((i) => [i.namespace, i.key, i.value]);
          for (const { prefix, ...options } of searches) {
            expect(found(await postgres.search(prefix, options)), JSON.stringify([prefix, options])).toEqual(found(await sqlite.search(prefix, options)));
          }
          await Promise.all([sqlite.store.close(), postgres.store.close()]);
        },
      ),
      { numRuns: PG_RUNS },
    );
  });
});

const thread = fc.constantFrom('t1', 't2', 'T');
const ns = fc.constantFrom('', 'sub:1', 'sub:2');
const step = fc.record({ thread, ns, source: fc.constantFrom('input', 'loop', 'update'), user: fc.option(fc.constantFrom('ann', 'bob')) });
const listOptions = fc.record(
  {
    thread: thread,
    ns,
    source: fc.constantFrom('input', 'loop'),
    user: fc.constantFrom('ann', 'bob'),
    limit: fc.integer({ min: 1, max: 6 }),
    before: fc.nat({ max: 30 }),
  },
  { requiredKeys: [] },
);

describe('AbathurSaver on SQLite and on PostgreSQL', () => {
  it('lists the same checkpoints, in the same order, for the same generated puts and list options', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.array(listOptions, { minLength: 1, maxLength: 8 }), async (steps, lists) => {
        const [sqlite, postgres] = [new AbathurSaver(await openInProcessStore()), new AbathurSaver(await openPostgresTestStore())];
        const ids: string[] = [];
        for (const s of steps) {
          const checkpoint = { ...emptyCheckpoint(), id: uuid6(-3) };
          ids.push(checkpoint.id);
          const metadata = { source: s.source, step: ids.length, parents: {}, ...(s.user === null ? {} : { user: s.user }) } as CheckpointMetadata;
          const config = { configurable: { thread_id: s.thread, checkpoint_ns: s.ns } };
          for (const saver of [sqlite, postgres]) await saver.put(config, checkpoint, metadata, {});
        }
        const listed = async (saver: AbathurSaver, o: (typeof lists)[number]): Promise<string[]> => {
          const config: RunnableConfig = { configurable: { ...(o.thread === undefined ? {} : { thread_id: o.thread }), ...(o.ns === undefined ? {} : { checkpoint_ns: o.ns }) } };
          const filter = { ...(o.source === undefined ? {} : { source: o.source }), ...(o.user === undefined ? {} : { user: o.user }) };
          const before = o.before === undefined ? undefined : { configurable: { checkpoint_id: ids[o.before % ids.length] } };
          const out: string[] = [];
          for await (const tuple of saver.list(config, { filter, ...(o.limit === undefined ? {} : { limit: o.limit }), ...(before === undefined ? {} : { before }) })) {
            out.push(`${String(tuple.config.configurable?.thread_id)}/${String(tuple.config.configurable?.checkpoint_ns)}/${tuple.checkpoint.id}`);
          }
          return out;
        };
        for (const o of lists) expect(await listed(postgres, o), JSON.stringify(o)).toEqual(await listed(sqlite, o));
        await Promise.all([sqlite.store.close(), postgres.store.close()]);
      }),
      { numRuns: PG_RUNS },
    );
  });
});
