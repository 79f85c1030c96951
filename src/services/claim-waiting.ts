import type { ClaimOutcome } from '../catalogue/tasks.js';
import type { ClaimTaskOptions, Task } from '../api/types.js';
import type { StoreEngine } from '../api/engine.js';
import { wakeupsOf } from './wakeups.js';

/**
 * A parked claim looks again this long after the next lease ends at the latest (the
 * database's clock and this process's may differ by a little), and never sooner than
 * this after a look that found nothing, should they differ by more.
 */
const LEASE_SLACK_MS = 5;

/**
 * `claim` once and, when it found nothing and the caller asked to wait, parks until a
 * change may have made a task claimable, the next lease ends, or `waitMs` has passed;
 * then claims again. Nothing polls the database meanwhile: the wakes come from this
 * store's writes and from the engine's watch of other processes' commits.
 */
export async function claimWaiting(
  engine: StoreEngine,
  claim: () => Promise<ClaimOutcome>,
  waitMsOf: () => number,
  options: ClaimTaskOptions | undefined,
): Promise<Task | undefined> {
  const waits = typeof options?.waitMs === 'number' && options.waitMs > 0;
  if (!waits) return (await claim()).task;
  const start = performance.now();
  const hub = wakeupsOf(engine);
  // Parked before the first look: a task created while it looks wakes it.
  const sleeper = hub.addClaim(typeof options.agentType === 'string' ? options.agentType : null);
  // Set while a park has ended and the look after it has not: a wake it took and never used.
  let unlooked = false;
  try {
    await hub.ready;
    let deadline: number | undefined;
    for (;;) {
      const epoch = hub.tasksEpoch;
      const outcome = await claim();
      unlooked = false;
      if (outcome.task !== undefined) {
        if (sleeper.vague) hub.passOn(sleeper);
        return outcome.task;
      }
      deadline ??= start + waitMsOf();
      const now = performance.now();
      if (now >= deadline) return undefined;
      // Something changed while it looked: look again before parking.
      if (hub.tasksEpoch !== epoch) continue;
      let ms = deadline - now;
      if (outcome.nextLeaseExpiry !== null) {
        ms = Math.min(ms, Math.max(LEASE_SLACK_MS, Date.parse(outcome.nextLeaseExpiry) - Date.now() + LEASE_SLACK_MS));
      }
      await sleeper.park(ms, options.signal, 'tasks.claimNext');
      unlooked = true;
    }
  } finally {
    // Woken, then its look refused (aborted, closed): the wake goes on to another claim.
    if (unlooked) sleeper.woken = true;
    hub.removeClaim(sleeper);
  }
}
