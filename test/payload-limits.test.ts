import { expect, it } from 'vitest';
import type { Store } from '../src/store.js';
import { describeEachEngine, type TestEngine } from './helpers/engines.js';

const PAYLOAD = 1024;
const STATE = 2048;

/** A JSON string value whose JSON text is exactly `bytes` bytes of UTF-8 (quotes included). */
const jsonOfBytes = (bytes: number): string => 'x'.repeat(bytes - 2);

async function seeded(engine: TestEngine): Promise<Store> {
  const store = await engine.open({ maxPayloadBytes: PAYLOAD, maxStateBytes: STATE });
  await store.sessions.create({ id: 's1', appName: 'app', userId: 'alice' });
  await store.tasks.create({ id: 't1', prompt: 'p', inputData: {} });
  await store.tasks.create({ id: 't2', prompt: 'p', inputData: {} });
  await store.tasks.claimNext();
  await store.agents.spawn({ id: 'a1', name: 'n', specialization: 's', taskId: 't1', model: 'm' });
  await store.memory.add({ namespace: 'user:alice', key: 'k', value: 1, type: 'semantic' });
  return store;
}

const big = jsonOfBytes(PAYLOAD + 1);

// Every argument that carries caller JSON, each given one byte too many.
const oversized: [string, string, (s: Store) => Promise<unknown>][] = [
  ['sessions.create', 'metadata', (s) => s.sessions.create({ appName: 'a', userId: 'u', metadata: { big } })],
  ['sessions.create', 'state', (s) => s.sessions.create({ appName: 'a', userId: 'u', state: { big } })],
  ['sessions.appendEvent', 'event', (s) => s.sessions.appendEvent('s1', big)],
  ['sessions.appendEvent', 'stateDelta', (s) => s.sessions.appendEvent('s1', 1, { stateDelta: { big } })],
  ['sessions.appendEvents', 'events[1].event', (s) => s.sessions.appendEvents('s1', [{ event: 1 }, { event: big }])],
  ['sessions.appendEvents', 'stateDelta', (s) => s.sessions.appendEvents('s1', [{ event: 1 }], { stateDelta: { big } })],
  ['sessions.setState', 'delta', (s) => s.sessions.setState('s1', { big })],
  ['memory.add', 'value', (s) => s.memory.add({ namespace: 'user:alice', key: 'k2', value: big, type: 'semantic' })],
  ['memory.add', 'metadata', (s) => s.memory.add({ namespace: 'user:alice', key: 'k2', value: 1, type: 'semantic', metadata: { big } })],
  ['memory.update', 'value', (s) => s.memory.update('user:alice', 'k', big)],
  ['memory.update', 'metadata', (s) => s.memory.update('user:alice', 'k', 2, { metadata: { big } })],
  ['documents.upsert', 'metadata', (s) => s.documents.upsert({ filePath: 'd.md', title: 'D', contentHash: 'h', metadata: { big } })],
  ['tasks.create', 'inputData', (s) => s.tasks.create({ prompt: 'p', inputData: big })],
  ['tasks.complete', 'result', (s) => s.tasks.complete('t1', big)],
  ['agents.spawn', 'resourceUsage', (s) => s.agents.spawn({ name: 'n', specialization: 's', taskId: 't1', model: 'm', resourceUsage: big })],
  ['agents.setState', 'resourceUsage', (s) => s.agents.setState('a1', 'working', { resourceUsage: big })],
  ['agents.terminate', 'resourceUsage', (s) => s.agents.terminate('a1', { resourceUsage: big })],
  ['checkpoints.save', 'state', (s) => s.checkpoints.save({ taskId: 't1', iteration: 1, state: big })],
  ['state.set', 'value', (s) => s.state.set('t1', 'k', big)],
  ['metrics.record', 'labels', (s) => s.metrics.record('m', 1, { labels: { big } })],
];

describeEachEngine('payload limits', (engine) => {
  it.each(oversized)('%s refuses a %s over maxPayloadBytes before it is queued', async (operation, argument, call) => {
    const store = await seeded(engine);
    const before = await engine.fingerprint(store);
    const callsBefore = store.stats().latency[operation]?.count ?? 0;
    await expect(call(store)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(new RegExp(`^${argument.replace(/[[\].]/g, '\\$&')} is \\d+ bytes of JSON, over the 1024-byte limit \\((maxPayloadBytes|maxStateBytes)\\)`)),
    });
    expect(await engine.fingerprint(store)).toBe(before);
    // Never reached the writer: the engine records every call it queues.
    expect(store.stats().latency[operation]?.count ?? 0).toBe(callsBefore);
  });

  it('counts bytes, not characters, and accepts a payload exactly at the limit', async () => {
    const store = await seeded(engine);
    await expect(store.sessions.appendEvent('s1', jsonOfBytes(PAYLOAD))).resolves.toMatchObject({ seq: 1 });
    // 511 two-byte characters: 1022 characters of JSON with the quotes, 1024 bytes; one more is over.
    await expect(store.sessions.appendEvent('s1', 'é'.repeat(511))).resolves.toMatchObject({ seq: 2 });
    await expect(store.sessions.appendEvent('s1', 'é'.repeat(512))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('event is 1026 bytes of JSON'),
    });
  });

  it('limits a batch of events as one payload', async () => {
    const store = await seeded(engine);
    const half = jsonOfBytes(PAYLOAD / 2);
    await expect(store.sessions.appendEvents('s1', [{ event: half }, { event: half }])).resolves.toMatchObject({ seqs: [1, 2] });
    await expect(store.sessions.appendEvents('s1', [{ event: half }, { event: half }, { event: 1 }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('events[0..2] are 1025 bytes of JSON together, over the 1024-byte limit (maxPayloadBytes)'),
    });
    expect((await store.sessions.get('s1'))?.eventCount).toBe(2);
  });

  it('refuses a state merged past maxStateBytes and writes nothing: no event, no merge, no audit row', async () => {
    const store = await seeded(engine);
    const chunk = jsonOfBytes(900);
    await store.sessions.appendEvent('s1', 'first', { stateDelta: { a: chunk } });
    await store.sessions.setState('s1', { b: chunk });
    const before = await engine.fingerprint(store);
    const refused = /would make session s1's state \d+ bytes, over the 2048-byte limit \(maxStateBytes\); nothing was written/;
    await expect(store.sessions.appendEvent('s1', 'second', { stateDelta: { c: chunk } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(refused) });
    await expect(store.sessions.appendEvents('s1', [{ event: 'x' }], { stateDelta: { c: chunk } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(refused) });
    await expect(store.sessions.setState('s1', { c: chunk })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(refused) });
    expect(await engine.fingerprint(store)).toBe(before);
    // A delta that shrinks the state, or adds to a smaller one, is fine.
    expect(await store.sessions.setState('s1', { a: null, c: chunk })).toEqual({ b: chunk, c: chunk });
    await expect(store.sessions.create({ appName: 'a', userId: 'u', state: { a: chunk, b: chunk, c: chunk } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^state is \d+ bytes of JSON, over the 1024-byte limit \(maxPayloadBytes\)/),
    });
  });

  it('accepts a state of exactly maxStateBytes, and refuses one byte more', async () => {
    const store = await seeded(engine);
    // Each delta stays under maxPayloadBytes; together they fill the state.
    await store.sessions.setState('s1', { a: jsonOfBytes(900), b: '' });
    await store.sessions.setState('s1', { c: jsonOfBytes(900) });
    const padding = STATE - (await engine.stateBytes(store, 's1'));
    await expect(store.sessions.setState('s1', { b: 'x'.repeat(padding + 1) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('maxStateBytes') });
    await store.sessions.setState('s1', { b: 'x'.repeat(padding) });
    expect(await engine.stateBytes(store, 's1')).toBe(STATE);
  });

  it('reports the limits in stats(); by default 1 MiB each, so a 2 MiB memory value is refused', async () => {
    expect((await seeded(engine)).stats().limits).toEqual({ maxPayloadBytes: PAYLOAD, maxStateBytes: STATE });
    const store = await engine.open();
    expect(store.stats().limits).toEqual({ maxPayloadBytes: 1 << 20, maxStateBytes: 1 << 20 });
    await expect(store.memory.add({ namespace: 'user:bob', key: 'huge', value: 'x'.repeat(2 << 20), type: 'semantic' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('value is 2097154 bytes of JSON, over the 1048576-byte limit (maxPayloadBytes)'),
    });
  });
});
