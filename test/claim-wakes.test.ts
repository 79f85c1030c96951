import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it, vi } from 'vitest';
import type { ChangeListener, StoreChange } from '../src/api/change-feed.js';
import type { StoreEngine } from '../src/api/engine.js';
import type { ClaimOutcome } from '../src/catalogue/tasks.js';
import { claimWaiting } from '../src/services/claim-waiting.js';

// Which changes make a claim that found nothing look again before it parks. Each look is
// a transaction on PostgreSQL: a look run for nothing takes a pooled connection from the
// claims and completions that need one.

/** An engine that is nothing but its change feed: `emit` plays a change to the waiters. */
function fakeEngine(): { engine: StoreEngine; emit: (change: StoreChange) => void } {
  let listener: ChangeListener | undefined;
  const engine = {
    watchChanges(l: ChangeListener) {
      listener = l;
      return { ready: Promise.resolve(), unsubscribe: () => (listener = undefined) };
    },
  } as unknown as StoreEngine;
  return { engine, emit: (change) => listener?.(change) };
}

const nothing: ClaimOutcome = { task: undefined, nextLeaseExpiry: null };

/** Two waiting claims: `parked` looks and parks first; `looking` runs `during` while its first look is in flight. */
async function twoClaims(during: (emit: (change: StoreChange) => void) => void): Promise<{ parked: number; looking: number }> {
  const { engine, emit } = fakeEngine();
  const controller = new AbortController();
  const looks = { parked: 0, looking: 0 };
  const first = claimWaiting(
    engine,
    async () => {
      looks.parked++;
      return nothing;
    },
    () => 60_000,
    { waitMs: 60_000, signal: controller.signal },
  ).catch(() => undefined);
  await vi.waitFor(() => expect(looks.parked).toBe(1));
  const second = claimWaiting(
    engine,
    async () => {
      if (++looks.looking === 1) during(emit);
      return nothing;
    },
    () => 60_000,
    { waitMs: 60_000, signal: controller.signal },
  ).catch(() => undefined);
  // The parked claim is woken by the change and looks once more; then both are parked.
  await vi.waitFor(() => expect(looks.parked).toBe(2));
  await sleep(20);
  controller.abort();
  await Promise.all([first, second]);
  return looks;
}

const local = (operation: string, result: unknown): StoreChange => ({ kind: 'local', operation, args: ['t'], result, ok: true, announced: false });

it('a completion while a claim looks wakes a parked claim, and the looking one parks after its one look', async () => {
  const looks = await twoClaims((emit) => emit(local('tasks.complete', { id: 't', agentType: 'general' })));
  expect(looks).toEqual({ parked: 2, looking: 1 });
});

it("another process's new task while a claim looks wakes a parked claim, and the looking one parks after its one look", async () => {
  const looks = await twoClaims((emit) => emit({ kind: 'external', tasks: { agentType: 'general' } }));
  expect(looks).toEqual({ parked: 2, looking: 1 });
});

it('a task created by this store while a claim looks makes that claim look again too: the woken claim may take an older task the look passed over', async () => {
  const looks = await twoClaims((emit) => emit(local('tasks.create', { id: 'new', agentType: 'general' })));
  expect(looks).toEqual({ parked: 2, looking: 2 });
});
