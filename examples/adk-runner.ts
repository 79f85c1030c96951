// Google ADK on abathur-store: ADK's own Runner keeps its sessions in
// AbathurSessionService and its long-term memory in AbathurMemoryService. The model is a
// stand-in that answers without a network, so the example runs anywhere; swap in
// `model: 'gemini-2.5-flash'` (and an API key) for a real one.
//
// A user tells the agent something in one session; the session goes to memory; in a
// second session ADK's PRELOAD_MEMORY tool searches that memory for the new question and
// hands the model what it found.
//
// Run it: npm run build && node dist/examples/adk-runner.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseLlm, LlmAgent, PRELOAD_MEMORY, Runner, type BaseLlmConnection, type LlmRequest, type LlmResponse } from '@google/adk';
import { openStore } from 'abathur-store';
import { AbathurMemoryService, AbathurSessionService } from 'abathur-store/adk';

/** A model that answers from the memories ADK put in its instructions, or acknowledges. */
class OfflineModel extends BaseLlm {
  constructor() {
    super({ model: 'offline-model' });
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    const instruction = request.config?.systemInstruction;
    const recalled = typeof instruction === 'string' ? /<PAST_CONVERSATIONS>\n([\s\S]*?)\n<\/PAST_CONVERSATIONS>/.exec(instruction)?.[1] : undefined;
    const question = request.contents.at(-1)?.parts?.[0]?.text ?? '';
    const text = recalled === undefined ? `Noted: ${question}` : `From what you told me before: ${recalled.split('\n').filter((line) => line.startsWith('user:')).join(' / ')}`;
    yield { content: { role: 'model', parts: [{ text }] }, turnComplete: true };
  }

  override connect(): Promise<BaseLlmConnection> {
    return Promise.reject(new Error('the offline model has no live mode'));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'abathur-example-'));
const store = await openStore({ path: join(dir, 'adk.db') });
try {
  const sessionService = new AbathurSessionService(store);
  const memoryService = new AbathurMemoryService(store);
  // outputKey: each reply is also kept in the session's state, under `last_reply`.
  const agent = new LlmAgent({ name: 'assistant', model: new OfflineModel(), instruction: 'Answer briefly.', tools: [PRELOAD_MEMORY], outputKey: 'last_reply' });
  const runner = new Runner({ appName: 'assistant', agent, sessionService, memoryService });

  /** One turn: the Runner appends the user's message and every event it yields to the session. */
  const ask = async (sessionId: string, text: string, stateDelta?: Record<string, unknown>) => {
    for await (const event of runner.runAsync({ userId: 'alice', sessionId, newMessage: { role: 'user', parts: [{ text }] }, stateDelta })) {
      const reply = event.content?.parts?.[0]?.text;
      if (reply !== undefined) console.log(`${event.author}: ${reply}`);
    }
  };

  // `user:` keys are the user's in every session of hers; `temp:` keys are never stored.
  const first = await sessionService.createSession({ appName: 'assistant', userId: 'alice', state: { 'user:name': 'Alice' } });
  await ask(first.id, 'My favourite colour is teal.', { 'temp:request': 1 });
  const stored = (await sessionService.getSession({ appName: 'assistant', userId: 'alice', sessionId: first.id }))!;
  await memoryService.addSessionToMemory(stored);
  console.log(`session 1: ${stored.events.length} events, state ${JSON.stringify(stored.state)}`);

  const second = await sessionService.createSession({ appName: 'assistant', userId: 'alice' });
  await ask(second.id, 'What is my favourite colour?');
  const again = (await sessionService.getSession({ appName: 'assistant', userId: 'alice', sessionId: second.id }))!;
  console.log(`session 2: ${again.events.length} events, user:name ${String(again.state['user:name'])}`);

  // The same sessions through the store's own API: each ADK session is a store session
  // (its metadata names the ADK id) whose events are rows of its event log.
  const { items } = await store.sessions.listByUser('alice');
  const inStore = items.find((session) => (session.metadata as { adk?: { sessionId: string } }).adk?.sessionId === first.id)!;
  const log = await store.sessions.events(inStore.id);
  console.log(`the store: ${items.length} sessions of alice; session 1's log: ${log.items.map((row) => `${row.seq} ${(row.event as { author: string }).author}`).join(', ')}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
