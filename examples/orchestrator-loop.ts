// An orchestrator's loop: each turn it hands the next task to an agent, tells the agent
// what it needs to know (the recent conversation, the memory of its user, app and
// project), records what happened (an event, state, a checkpoint, a metric, each with
// its audit row) and completes the task. All of it in one SQLite file.
//
// Run it: npm run build && node dist/examples/orchestrator-loop.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type MemoryContext, type Task } from 'abathur-store';

const user = { userId: 'alice', appName: 'release-bot', projectId: 'web' };

/** The agent's work. A real orchestrator calls a model here; this one answers from the memory it was given. */
function work(task: Task, memory: MemoryContext<string>): { summary: string; tokens: number } {
  const style = memory.user.find((entry) => entry.key === 'changelog')?.value;
  const branch = memory.project.find((entry) => entry.key === 'branch')?.value;
  const summary = {
    'run the test suite': `all tests pass on ${branch}`,
    'write the changelog': `changelog written in ${style}`,
    'tag the release': `tagged ${(task.inputData as { tag: string }).tag}`,
  }[task.prompt];
  return { summary: summary ?? 'done', tokens: 100 * task.prompt.length };
}

const dir = mkdtempSync(join(tmpdir(), 'abathur-example-'));
const store = await openStore({ path: join(dir, 'orchestrator.db') });
try {
  // A conversation with a user, and what the store remembers about her and the project.
  const session = await store.sessions.create({ ...user, state: { phase: 'planning' } });
  await store.sessions.setStatus(session.id, 'active');
  await store.sessions.appendEvent(session.id, { role: 'user', text: 'release web 1.4' }, { eventId: 'request' });
  await store.memory.add({ namespace: 'user:alice', key: 'changelog', value: 'short bullets', type: 'semantic' });
  await store.memory.add({ namespace: 'project:web', key: 'branch', value: 'main', type: 'semantic' });

  // The plan: a task the orchestrator claims for itself, and subtasks for worker agents.
  // Tagging waits for the tests and the changelog (its dependencies).
  await store.tasks.create({ prompt: 'release web 1.4', inputData: { version: '1.4.0' }, agentType: 'planner', sessionId: session.id });
  const plan = (await store.tasks.claimNext({ agentType: 'planner' }))!;
  const subtask = (prompt: string, inputData: Record<string, string>, priority: number, dependencies: string[] = []) =>
    store.tasks.create({ prompt, inputData, priority, dependencies, parentTaskId: plan.id, sessionId: session.id });
  const tests = await subtask('run the test suite', { suite: 'all' }, 1);
  const notes = await subtask('write the changelog', { since: '1.3.0' }, 3);
  await subtask('tag the release', { tag: 'v1.4.0' }, 1, [tests.id, notes.id]);

  const done: string[] = [];
  for (let turn = 1; ; turn++) {
    // The highest-priority pending task whose dependencies have completed, claimed
    // atomically: any number of orchestrators may race for it, one gets it.
    const task = await store.tasks.claimNext({ agentType: 'general' });
    if (task === undefined) break;
    const agent = await store.agents.spawn({ name: `worker-${turn}`, specialization: 'release', taskId: task.id, model: 'fake-model', sessionId: session.id });
    const ctx = { taskId: task.id, agentId: agent.id }; // every write's audit row names them
    await store.agents.setState(agent.id, 'working', { ctx });

    // What the agent is told: the newest events (an index range, however long the
    // session) and the current memory of the session, user, app and project scopes.
    const recent = await store.sessions.get(session.id, { lastEvents: 5 });
    const memory = await store.memory.context<string>({ sessionId: session.id, ...user }); // the values here are strings
    const { summary, tokens } = work(task, memory);

    // What happened. The event id makes the append idempotent: a retry after a crash
    // never appends it twice. The checkpoint is where a restarted orchestrator resumes.
    await store.sessions.appendEvent(session.id, { role: 'agent', agent: agent.name, text: summary }, {
      eventId: `turn-${turn}`,
      stateDelta: { phase: 'working', turns: turn },
      ctx,
    });
    done.push(task.prompt);
    await store.checkpoints.save({ taskId: plan.id, iteration: turn, state: { done }, sessionId: session.id, ctx });
    // With the claim's token: had its lease ended and another agent taken the task, this
    // would be refused (CONFLICT) rather than overwrite the other agent's result.
    await store.tasks.complete(task.id, { summary }, { ctx, claimToken: task.claimToken! });
    await store.agents.terminate(agent.id, { resourceUsage: { tokens }, ctx });
    await store.metrics.record('agent.tokens', tokens, { labels: { agent: agent.name } });
    const last = recent!.events.at(-1) as { text: string };
    console.log(`turn ${turn}: ${agent.name} "${task.prompt}", after "${last.text}": ${summary}`);
  }

  // The plan is done when every subtask is; the session records it and ends.
  const subtasks = (await store.tasks.listChildren(plan.id)).items;
  const completed = subtasks.filter((task) => task.status === 'completed').length;
  await store.tasks.complete(plan.id, { completed });
  await store.sessions.appendEvent(session.id, { role: 'agent', text: 'web 1.4 is released' }, { eventId: 'released', stateDelta: { phase: 'done' } });
  await store.sessions.setStatus(session.id, 'terminated');
  console.log(`plan ${(await store.tasks.get(plan.id))!.status}: ${completed} of ${subtasks.length} subtasks completed`);

  const checkpoint = (await store.checkpoints.latest<{ done: string[] }>(plan.id))!;
  console.log(`latest checkpoint: iteration ${checkpoint.iteration}, done ${checkpoint.state.done.join(', ')}`);
  const final = (await store.sessions.get(session.id, { lastEvents: 1 }))!;
  console.log(`session ${final.status}: ${final.eventCount} events, state ${JSON.stringify(final.state)}`);
  const tokens = (await store.metrics.query({ name: 'agent.tokens' })).items.reduce((sum, metric) => sum + metric.value, 0);
  console.log(`tokens recorded: ${tokens}`);
  const audit = (await store.audit.list({ taskId: tests.id })).items.map((entry) => entry.actionType).reverse();
  console.log(`audit of "${tests.prompt}": ${audit.join(', ')}`);
} finally {
  await store.close(); // drains what was accepted, checkpoints the WAL, stops the threads
  rmSync(dir, { recursive: true, force: true });
}
