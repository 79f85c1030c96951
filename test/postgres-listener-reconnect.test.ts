import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { StoreChange } from '../src/api/change-feed.js';
import { resolvePostgresOptions } from '../src/api/options.js';

// A LISTEN connection whose first connect fails: the waiters look once `ready` settles,
// and commits made before a later connect listens are never notified to it.

let connects = 0;
class FakeClient extends EventEmitter {
  connect(): Promise<void> {
    connects++;
    return connects === 1 ? Promise.reject(new Error('connection refused')) : Promise.resolve();
  }
  query(): Promise<unknown> {
    return Promise.resolve({ rows: [] });
  }
  end(): Promise<void> {
    return Promise.resolve();
  }
}

vi.mock('../src/postgres/driver.js', () => ({
  loadPg: () => Promise.resolve({ Client: FakeClient }),
}));

describe('pgListener', () => {
  it('reports a change when it first listens after a failed first connect: commits made meanwhile were never notified', async () => {
    const { pgListener } = await import('../src/postgres/listener.js');
    const changes: StoreChange[] = [];
    const watch = pgListener(resolvePostgresOptions({ url: 'postgres://localhost/x' }))((change) => changes.push(change));
    await watch.ready;
    expect(connects).toBe(1);
    await vi.waitFor(() => expect(connects).toBe(2), { timeout: 5000 });
    await vi.waitFor(() => expect(changes).toEqual([{ kind: 'external' }]), { timeout: 5000 });
    watch.stop();
  });
});
