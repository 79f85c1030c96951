import { describe, expect, it } from 'vitest';
import { Settler } from '../src/sqlite/settler.js';

// The settler settles answers in slices: once a slice's budget is spent, it yields to the
// event loop before it settles the next one. A clock the test moves stands for the time
// the callers' continuations take, so nothing here depends on how fast the machine is.

function deferred(): { promise: Promise<string>; resolve: (value: unknown) => void; reject: (error: unknown) => void } {
  let resolve!: (value: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res as (value: unknown) => void;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('settler', () => {
  it('yields to the event loop once a slice has spent its budget, then settles the rest', async () => {
    let clock = 0;
    const settler = new Settler(1, () => clock);
    const log: string[] = [];
    setImmediate(() => log.push('event loop'));
    const calls = ['a', 'b', 'c'].map((name) => {
      const d = deferred();
      // The caller's continuation: 'a' takes 2 ms of the caller's thread, the others none.
      void d.promise.then((value) => {
        log.push(value);
        if (value === 'a') clock += 2;
      });
      return { name, d };
    });
    for (const { name, d } of calls) settler.push(d.resolve, name);
    await Promise.all(calls.map(({ d }) => d.promise));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['a', 'event loop', 'b', 'c']);
    expect(settler.yields).toBe(1);
    expect(settler.length).toBe(0);
  });

  it('settles everything in one slice while the budget lasts, in the order pushed, rejections too', async () => {
    const settler = new Settler(1, () => 0);
    const log: string[] = [];
    setImmediate(() => log.push('event loop'));
    const a = deferred();
    const b = deferred();
    const c = deferred();
    void a.promise.then((v) => log.push(v));
    b.promise.catch((e: Error) => log.push(`rejected ${e.message}`));
    void c.promise.then((v) => log.push(v));
    settler.push(a.resolve, 'a');
    settler.push(b.reject, new Error('b'));
    settler.push(c.resolve, 'c');
    expect(settler.length).toBe(2);
    await c.promise;
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['a', 'rejected b', 'c', 'event loop']);
    expect(settler.yields).toBe(0);
  });

  it('runs again when answers come after it went idle', async () => {
    const settler = new Settler(1, () => 0);
    const first = deferred();
    settler.push(first.resolve, 1);
    expect(await first.promise).toBe(1);
    const second = deferred();
    settler.push(second.resolve, 2);
    expect(await second.promise).toBe(2);
  });
});
