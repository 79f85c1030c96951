import {
  BaseLlm,
  FunctionTool,
  LlmAgent,
  Runner,
  type BaseLlmConnection,
  type Event,
  type LlmRequest,
  type LlmResponse,
} from '@google/adk';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { AbathurSessionService } from '../src/adk/index.js';
import { describeEachEngine } from './helpers/engines.js';

// A real ADK agent on a real store (writer thread, reader pool; and on PostgreSQL): an LlmAgent whose model is
// scripted (first a tool call, then, once the tool answered, a text reply), run by ADK's
// own Runner, for 64 sessions at once.

const SESSIONS = 64;
const USERS = 8;
const TURNS = 2;

/** A model that calls `remember` once per turn, then answers from the tool's response. */
class ScriptedLlm extends BaseLlm {
  /** What the model was shown, per call: the roles and first texts of the history. */
  readonly requests: { texts: string[] }[] = [];

  constructor() {
    super({ model: 'scripted-llm' });
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    const texts = request.contents.map((c) => c.parts?.map((p) => p.text ?? (p.functionCall ? 'call' : 'response')).join('|') ?? '');
    this.requests.push({ texts });
    const last = request.contents.at(-1);
    const answered = last?.parts?.find((p) => p.functionResponse !== undefined)?.functionResponse;
    if (answered === undefined) {
      const said = last?.parts?.[0]?.text ?? '';
      yield { content: { role: 'model', parts: [{ functionCall: { name: 'remember', args: { note: said } } }] } };
    } else {
      yield { content: { role: 'model', parts: [{ text: `noted (${String((answered.response as { count: number }).count)})` }] }, turnComplete: true };
    }
  }

  override connect(): Promise<BaseLlmConnection> {
    return Promise.reject(new Error('the scripted model has no live mode'));
  }
}

const remember = new FunctionTool({
  name: 'remember',
  description: 'Remembers a note for this session, this user and this app',
  parameters: z.object({ note: z.string() }),
  execute: ({ note }, context) => {
    const state = context!.state;
    const count = (state.get<number>('count') ?? 0) + 1;
    const sessionId = context!.invocationContext.session.id;
    state.set('count', count);
    state.set('last_note', note);
    state.set(`user:seen:${sessionId}`, count);
    state.set(`app:seen:${sessionId}`, true);
    state.set('temp:scratch', note);
    return Promise.resolve({ count });
  },
});

describeEachEngine('an ADK LlmAgent run by ADK’s Runner on AbathurSessionService', (engine) => {
  it('stores every event of 64 concurrent sessions once, in order, with user: state shared by each user’s sessions', async () => {
    const store = await engine.open();
    const sessionService = new AbathurSessionService(store);
    const model = new ScriptedLlm();
    const agent = new LlmAgent({ name: 'notes_agent', model, instruction: 'Take notes.', tools: [remember] });
    const runner = new Runner({ appName: 'notes', agent, sessionService });

    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) =>
        sessionService.createSession({ appName: 'notes', userId: `user${i % USERS}`, sessionId: `session-${i}`, state: { started: i } }),
      ),
    );
    /** Per session, every event the Runner yielded, turn by turn. */
    const yielded = new Map<string, Event[][]>();
    await Promise.all(
      sessions.map(async (session) => {
        const turns: Event[][] = [];
        for (let turn = 0; turn < TURNS; turn++) {
          const events: Event[] = [];
          for await (const event of runner.runAsync({
            userId: session.userId,
            sessionId: session.id,
            newMessage: { role: 'user', parts: [{ text: `${session.id} turn ${turn}` }] },
            stateDelta: { 'temp:request': turn, turn },
          })) {
            events.push(event);
          }
          turns.push(events);
        }
        yielded.set(session.id, turns);
      }),
    );

    for (const session of sessions) {
      const stored = (await sessionService.getSession({ appName: 'notes', userId: session.userId, sessionId: session.id }))!;
      const turns = yielded.get(session.id)!;
      // Each turn: the user's message (appended by the Runner, not yielded), then the call,
      // the tool's response and the reply, as yielded: every event once, in this order.
      const expected = turns.flatMap((events, turn) => [`user:${session.id} turn ${turn}`, ...events.map((e) => `${e.author}:${e.id}`)]);
      const actual = stored.events.map((e) => (e.author === 'user' ? `user:${e.content?.parts?.[0]?.text}` : `${e.author}:${e.id}`));
      expect(actual).toEqual(expected);
      expect(stored.events).toHaveLength(TURNS * 4);
      expect(new Set(stored.events.map((e) => e.id)).size).toBe(stored.events.length);
      expect(stored.events.map((e) => e.content?.parts?.[0]?.text ?? (e.content?.parts?.[0]?.functionCall ? 'call' : 'response'))).toEqual(
        Array.from({ length: TURNS }, (_, turn) => [`${session.id} turn ${turn}`, 'call', 'response', `noted (${turn + 1})`]).flat(),
      );
      const n = Number(session.id.slice('session-'.length));
      const sameUser = sessions.filter((s) => s.userId === session.userId).map((s) => `user:seen:${s.id}`);
      const state = stored.state;
      expect(state).toMatchObject({ started: n, turn: TURNS - 1, count: TURNS, last_note: `${session.id} turn ${TURNS - 1}` });
      // user: keys of every session of this user, none of another user's.
      expect(Object.keys(state).filter((k) => k.startsWith('user:')).sort()).toEqual(sameUser.sort());
      // app: keys of all 64 sessions; temp: keys nowhere.
      expect(Object.keys(state).filter((k) => k.startsWith('app:'))).toHaveLength(SESSIONS);
      expect(Object.keys(state).filter((k) => k.startsWith('temp:'))).toEqual([]);
      expect(JSON.stringify(stored.events)).not.toContain('temp:');
    }
    // The model saw each session's whole history, rebuilt from the store, on every call:
    // a turn-2 call carries the four events of turn 1 before the new message.
    const second = model.requests.filter((r) => r.texts.length > 4 && r.texts.at(-1)?.endsWith('turn 1'));
    expect(second).toHaveLength(SESSIONS);
    for (const request of second) {
      const id = request.texts[0]!.split(' ')[0]!;
      expect(request.texts).toEqual([`${id} turn 0`, 'call', 'response', `noted (1)`, `${id} turn 1`]);
    }
  });
}, { threads: true });
