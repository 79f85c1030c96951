import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Queue } from '../src/sqlite/queue.js';

describe('queue', () => {
  it('takes from the front in order, at most what is asked, and drains the rest', () => {
    const queue = new Queue<number>();
    expect(queue.take(3)).toEqual([]);
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(queue.length).toBe(5);
    expect(queue.take(2)).toEqual([0, 1]);
    expect(queue.length).toBe(3);
    queue.push(5);
    expect(queue.drain()).toEqual([2, 3, 4, 5]);
    expect(queue.length).toBe(0);
    queue.push(6);
    expect(queue.take(10)).toEqual([6]);
  });

  it('stays in order across the compaction of a long queue taken from a little at a time', () => {
    const queue = new Queue<number>();
    const total = 5000;
    for (let i = 0; i < total; i++) queue.push(i);
    const taken: number[] = [];
    let next = total;
    // Take more than is pushed, so the front passes 1,024 and then half the backing array.
    while (queue.length > 0) {
      taken.push(...queue.take(7));
      if (next < total + 2000) queue.push(next++);
      expect(queue.length).toBe(next - taken.length);
    }
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});

describe('a queue with withdrawal', () => {
  it('withdraws an aborted item from the middle, keeps the order of the rest, and tells who asked', () => {
    const queue = new Queue<string>();
    const withdrawn: string[] = [];
    const controller = new AbortController();
    queue.push('a');
    queue.push('b', controller.signal, (item) => withdrawn.push(item));
    queue.push('c');
    controller.abort();
    expect(withdrawn).toEqual(['b']);
    expect(queue.length).toBe(2);
    expect(queue.drain()).toEqual(['a', 'c']);
  });

  it('forgets the signal of an item once taken: a later abort changes nothing, no listener is left', () => {
    const queue = new Queue<string>();
    const controller = new AbortController();
    const withdrawn: string[] = [];
    queue.push('a', controller.signal, (item) => withdrawn.push(item));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(queue.take(1)).toEqual(['a']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(withdrawn).toEqual([]);
  });

  it('withdraws the item at the very front too, and takes a withdrawal that nobody asked to hear of', () => {
    const queue = new Queue<string>();
    const first = new AbortController();
    const withdrawn: string[] = [];
    queue.push('a', first.signal, (item) => withdrawn.push(item));
    const silent = new AbortController();
    queue.push('b', silent.signal);
    queue.push('c');
    first.abort();
    silent.abort();
    expect(withdrawn).toEqual(['a']);
    expect(queue.drain()).toEqual(['c']);
  });

  it('takes items with and without a signal together, detaching only the signals there are', () => {
    const queue = new Queue<string>();
    const controller = new AbortController();
    queue.push('a', controller.signal, () => {});
    queue.push('b');
    expect(queue.take(2)).toEqual(['a', 'b']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('one listener per signal however many waiting items share it; all withdrawn in order on abort, none left after', () => {
    const queue = new Queue<number>();
    const controller = new AbortController();
    const withdrawn: number[] = [];
    for (let i = 0; i < 20; i++) queue.push(i, controller.signal, (item) => withdrawn.push(item));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    // Taking some detaches them; the signal keeps its one listener for the rest.
    expect(queue.take(5)).toEqual([0, 1, 2, 3, 4]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    queue.push(20);
    controller.abort();
    expect(withdrawn).toEqual(Array.from({ length: 15 }, (_, i) => i + 5));
    expect(queue.drain()).toEqual([20]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('the last waiting item of a shared signal taken: its listener is removed, and a new item adds one again', () => {
    const queue = new Queue<string>();
    const controller = new AbortController();
    queue.push('a', controller.signal);
    queue.push('b', controller.signal);
    expect(queue.take(2)).toEqual(['a', 'b']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const withdrawn: string[] = [];
    queue.push('c', controller.signal, (item) => withdrawn.push(item));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(withdrawn).toEqual(['c']);
  });
});
