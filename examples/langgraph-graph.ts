// A LangGraph.js graph on abathur-store: AbathurSaver keeps each thread's checkpoints,
// AbathurStore the long-term memory the nodes read and write. The graph drafts a post,
// stops for a human's approval (an interrupt), and the process ends. A later process
// opens the same file and resumes the thread from its checkpoint.
//
// Run it: npm run build && node dist/examples/langgraph-graph.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotation, Command, END, interrupt, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { openStore, type Store } from 'abathur-store';
import { AbathurSaver, AbathurStore } from 'abathur-store/langgraph';

const Post = Annotation.Root({
  topic: Annotation<string>(),
  draft: Annotation<string>(),
  approved: Annotation<boolean>(),
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** The user a run is for: LangGraph passes `configurable` to every node. */
const userOf = (config: LangGraphRunnableConfig) => String(config.configurable?.user_id);

function buildGraph(store: Store) {
  return new StateGraph(Post)
    .addNode('write', async (state, config: LangGraphRunnableConfig) => {
      // Long-term memory: what is known about the user in every thread of theirs.
      const style = await config.store!.get(['users', userOf(config)], 'style');
      return { draft: `${state.topic} (${String(style?.value.tone)})`, steps: ['write'] };
    })
    .addNode('review', (state) => {
      // The run stops here; the thread waits in its checkpoint until someone answers.
      const approved = interrupt<{ question: string; draft: string }, boolean>({ question: 'Publish this draft?', draft: state.draft });
      return { approved, steps: ['review'] };
    })
    .addNode('publish', async (state, config: LangGraphRunnableConfig) => {
      if (state.approved) await config.store!.put(['users', userOf(config), 'posts'], 'release-1.4', { text: state.draft });
      return { steps: [state.approved ? 'publish' : 'discard'] };
    })
    .addEdge(START, 'write')
    .addEdge('write', 'review')
    .addEdge('review', 'publish')
    .addEdge('publish', END)
    .compile({ checkpointer: new AbathurSaver(store), store: new AbathurStore(store) });
}

const config = { configurable: { thread_id: 'post-1', user_id: 'alice' } };
const dir = mkdtempSync(join(tmpdir(), 'abathur-example-'));
const path = join(dir, 'graph.db');
try {
  // The first process: runs the thread until the review interrupts it, then ends.
  const first = await openStore({ path });
  try {
    await new AbathurStore(first).put(['users', 'alice'], 'style', { tone: 'in three words' });
    const graph = buildGraph(first);
    await graph.invoke({ topic: 'Release 1.4 ships' }, config);
    const waiting = await graph.getState(config); // read from the checkpoint
    console.log(`waiting at ${waiting.next.join(', ')}: ${JSON.stringify(waiting.tasks[0]?.interrupts[0]?.value)}`);
  } finally {
    await first.close();
  }

  // A later process, the same file: the answer resumes the thread where it stopped.
  const second = await openStore({ path });
  try {
    const graph = buildGraph(second);
    const final = await graph.invoke(new Command({ resume: true }), config);
    console.log(`resumed: ${final.steps.join(' -> ')}, approved ${String(final.approved)}`);
    const history: string[] = [];
    for await (const snapshot of graph.getStateHistory(config)) history.push(`${snapshot.metadata?.step} ${snapshot.metadata?.source}`);
    console.log(`checkpoints of thread post-1, newest first: ${history.join(', ')}`);
    const posts = await new AbathurStore(second).search(['users', 'alice', 'posts']);
    console.log(`published: ${posts.map((item) => JSON.stringify(item.value)).join(', ')}`);
  } finally {
    await second.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
