import { describe, expect, it } from 'vitest';
import {
  Annotation,
  Command,
  END,
  InMemoryStore,
  interrupt,
  MemorySaver,
  Send,
  START,
  StateGraph,
  type BaseCheckpointSaver,
  type BaseStore,
  type LangGraphRunnableConfig,
  type StateSnapshot,
} from '@langchain/langgraph';
import { AbathurSaver, AbathurStore } from '../src/langgraph/index.js';
import { describeEachEngine } from './helpers/engines.js';
import { tempDbPath } from './helpers/temp.js';

// End to end on real threads, and on PostgreSQL: the same graphs run on AbathurSaver + AbathurStore and on
// LangGraph's MemorySaver + InMemoryStore must end in the same states and histories.
// The graph fans out with Send, interrupts for approval, runs a subgraph (its own
// checkpoint namespace) and writes to the long-term store from a node.

const THREADS = 64;

const State = Annotation.Root({
  fan: Annotation<number>(),
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  results: Annotation<number[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  approved: Annotation<boolean | undefined>(),
  note: Annotation<string | undefined>(),
});
type S = typeof State.State;

const Sub = Annotation.Root({
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  note: Annotation<string | undefined>(),
});

function buildGraph(checkpointer: BaseCheckpointSaver, store: BaseStore) {
  const sub = new StateGraph(Sub)
    .addNode('summarise', (s: typeof Sub.State) => ({ note: `${s.note ?? 'summary'} of ${s.steps.length} steps`, steps: ['summarise'] }))
    .addEdge(START, 'summarise')
    .addEdge('summarise', END)
    .compile();
  return new StateGraph(State)
    .addNode('plan', () => ({ steps: ['plan'] }))
    .addNode('work', (s: { n: number }) => ({ results: [s.n * s.n], steps: [`work ${s.n}`] }))
    .addNode('review', (s: S) => {
      const answer = interrupt<unknown, boolean>({ question: 'approve?', results: s.results });
      return { approved: answer, steps: ['review'] };
    })
    .addNode('sub', sub)
    .addNode('act', async (s: S, config: LangGraphRunnableConfig) => {
      const thread = String(config.configurable?.thread_id);
      await config.store!.put(['threads', thread], 'outcome', { approved: s.approved, total: s.results.reduce((a, b) => a + b, 0) });
      const outcome = await config.store!.get(['threads', thread], 'outcome');
      return { steps: [s.approved === true ? `act ${String(outcome?.value.total)}` : 'skip'] };
    })
    .addEdge(START, 'plan')
    .addConditionalEdges('plan', (s: S) => Array.from({ length: s.fan }, (_, n) => new Send('work', { n })))
    .addEdge('work', 'review')
    .addEdge('review', 'sub')
    .addEdge('sub', 'act')
    .addEdge('act', END)
    .compile({ checkpointer, store });
}
type Graph = ReturnType<typeof buildGraph>;

const configOf = (t: number) => ({ configurable: { thread_id: `thread-${t}` } });

/** Starts every thread at once, lets each stop at its interrupt, then resumes every one at once. */
async function runAll(graph: Graph): Promise<{ interrupted: unknown[]; final: unknown[] }> {
  const interrupted = await Promise.all(
    Array.from({ length: THREADS }, async (_, t) => {
      const { __interrupt__: interrupts, ...out } = (await graph.invoke({ fan: 1 + (t % 4) }, configOf(t))) as S & { __interrupt__: unknown };
      const state = await graph.getState(configOf(t));
      // Interrupt ids derive from checkpoint ids, which differ from run to run.
      return { out, interrupts: (interrupts as { value: unknown }[]).map((i) => i.value), next: state.next };
    }),
  );
  const final = await Promise.all(
    Array.from({ length: THREADS }, (_, t) => graph.invoke(new Command({ resume: t % 3 !== 0 }), configOf(t))),
  );
  return { interrupted, final };
}

/** What a thread's history shows, newest first, without the ids and times that differ by run. */
async function historyOf(graph: Graph, t: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const snapshot of graph.getStateHistory(configOf(t))) {
    out.push({ values: snapshot.values, next: snapshot.next, step: snapshot.metadata?.step, source: snapshot.metadata?.source });
  }
  return out;
}

/** Forks a thread at its review (an update of an old checkpoint), runs and resumes the fork. */
async function fork(graph: Graph, t: number): Promise<unknown> {
  let atReview: StateSnapshot | undefined;
  for await (const snapshot of graph.getStateHistory(configOf(t))) if (snapshot.next.includes('review')) atReview = snapshot;
  const forked = await graph.updateState(atReview!.config, { note: 'forked', results: [1000] });
  await graph.invoke(null, forked);
  return graph.invoke(new Command({ resume: true }), configOf(t));
}

describeEachEngine(
  'LangGraph end to end',
  (engine) => {
    it(`runs ${THREADS} threads at once through an interrupt and a resume as MemorySaver does`, async () => {
      const store = await engine.open();
      const ours = buildGraph(new AbathurSaver(store), new AbathurStore(store));
      const reference = buildGraph(new MemorySaver(), new InMemoryStore());

      const [a, b] = [await runAll(ours), await runAll(reference)];
      expect(a.interrupted).toEqual(b.interrupted);
      expect(a.interrupted.every((x) => (x as { next: string[] }).next.join() === 'review')).toBe(true);
      expect(a.final).toEqual(b.final);
      expect((a.final[1] as S).steps.at(-1)).toBe('act 1');
      expect((a.final[0] as S).steps.at(-1)).toBe('skip');
      for (const t of [0, 1, 5, 63]) expect(await historyOf(ours, t)).toEqual(await historyOf(reference, t));
      for (const t of [2, 7]) expect(await fork(ours, t)).toEqual(await fork(reference, t));
      for (const t of [2, 7]) expect((await ours.getState(configOf(t))).values).toEqual((await reference.getState(configOf(t))).values);

      const memory = new AbathurStore(store);
      expect((await memory.get(['threads', 'thread-1'], 'outcome'))?.value).toEqual({ approved: true, total: 1 });
      expect(await memory.listNamespaces({ prefix: ['threads'] })).toHaveLength(THREADS);
      // The subgraph checkpointed in a namespace of its own.
      const saver = new AbathurSaver(store);
      const namespaces = new Set<string>();
      for await (const tuple of saver.list({ configurable: { thread_id: 'thread-1' } })) namespaces.add(String(tuple.config.configurable?.checkpoint_ns));
      expect([...namespaces].some((ns) => ns.startsWith('sub:'))).toBe(true);
      expect(namespaces.has('')).toBe(true);
    });
  },
  { threads: true },
);

describe('LangGraph end to end, on a store of its own', () => {
  it('opens from a path and closes what it opened', async () => {
    const path = tempDbPath();
    const saver = await AbathurSaver.fromPath(path, { store: { readers: 1 } });
    const memory = await AbathurStore.fromPath(path, { store: { readers: 1 }, ttl: { defaultTtl: 60 } });
    const graph = buildGraph(saver, memory);
    await graph.invoke({ fan: 2 }, configOf(0));
    const out = await graph.invoke(new Command({ resume: true }), configOf(0));
    expect(out.steps.at(-1)).toBe('act 1');
    await saver.close();
    await memory.close();
    await expect(saver.getTuple(configOf(0))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(memory.get(['threads', 'thread-0'], 'outcome')).rejects.toMatchObject({ code: 'CLOSED' });
    // What they wrote is in the file.
    const again = await AbathurSaver.fromPath(path, { store: { readers: 1 } });
    expect((await again.getTuple(configOf(0)))?.checkpoint.channel_values).toMatchObject({ approved: true });
    await again.close();
    // Bad options: refused, and the store opened for them is closed again.
    await expect(AbathurStore.fromPath(path, { store: { readers: 1 }, index: { dims: 0, embed: () => Promise.resolve([]) } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
