import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { listenForAbort } from '../src/api/abort-listeners.js';

describe('abort listeners', () => {
  it('many callbacks on one signal: one listener; they run in the order added, each once', () => {
    const controller = new AbortController();
    const ran: string[] = [];
    const twice = (): void => void ran.push('twice');
    listenForAbort(controller.signal, () => ran.push('a'));
    listenForAbort(controller.signal, twice);
    listenForAbort(controller.signal, () => ran.push('b'));
    listenForAbort(controller.signal, twice);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(ran).toEqual(['a', 'twice', 'b', 'twice']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a detached callback never runs; the listener goes with the last one, and comes back with the next', () => {
    const controller = new AbortController();
    const ran: string[] = [];
    const detachA = listenForAbort(controller.signal, () => ran.push('a'));
    const detachB = listenForAbort(controller.signal, () => ran.push('b'));
    detachA();
    detachA();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    detachB();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    listenForAbort(controller.signal, () => ran.push('c'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(ran).toEqual(['c']);
  });

  it('a callback that detaches another not yet run keeps it from running; detaching after the abort changes nothing', () => {
    const controller = new AbortController();
    const ran: string[] = [];
    let detachLater = (): void => {};
    const detachFirst = listenForAbort(controller.signal, () => {
      ran.push('first');
      detachLater();
    });
    detachLater = listenForAbort(controller.signal, () => ran.push('later'));
    listenForAbort(controller.signal, () => ran.push('last'));
    controller.abort();
    expect(ran).toEqual(['first', 'last']);
    detachFirst();
    expect(ran).toEqual(['first', 'last']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
