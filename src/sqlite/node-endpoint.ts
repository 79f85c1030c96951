import type { Endpoint } from 'comlink';
import type { MessagePort, Worker } from 'node:worker_threads';

/**
 * The listener comlink passes: the DOM's `EventListenerOrEventListenerObject`, which
 * Node's types do not declare (in comlink's signature it resolves to nothing).
 */
type Listener = ((event: MessageEvent) => void) | { handleEvent(event: MessageEvent): void };

/**
 * comlink's Endpoint over a Node worker or port (comlink's own node-adapter ships types
 * that do not resolve under NodeNext; this is the same 20 lines).
 */
export function nodeEndpoint(port: Worker | MessagePort): Endpoint {
  const wrapped = new Map<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: readonly unknown[]) =>
      port.postMessage(message, transfer as Parameters<MessagePort['postMessage']>[1]),
    addEventListener: (_type: string, listener: Listener) => {
      const onMessage = (data: unknown): void => {
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      port.on('message', onMessage);
      wrapped.set(listener, onMessage);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const onMessage = wrapped.get(listener);
      if (onMessage === undefined) return;
      port.off('message', onMessage);
      wrapped.delete(listener);
    },
  };
}

/** A comlink request or answer: each carries the request's id. */
const idOf = (message: unknown): string | undefined => {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
};

/**
 * The caller's end of a worker's comlink channel. comlink keeps each request's resolver
 * until its answer comes, and a worker that exited never answers: when it exits, every
 * request still owed is answered here as comlink answers a call that threw, with
 * `exitError(exitCode)`. No call is left pending, and nothing it holds is kept.
 */
export function workerEndpoint(worker: Worker, exitError: (exitCode: number) => unknown): Endpoint {
  const endpoint = nodeEndpoint(worker);
  const listeners = new Set<Listener>();
  const owed = new Set<string>();
  worker.on('message', (message: unknown) => {
    const id = idOf(message);
    if (id !== undefined) owed.delete(id);
  });
  worker.once('exit', (exitCode: number) => {
    const error = exitError(exitCode);
    for (const id of owed) {
      // comlink's wire form of a thrown value: its 'throw' handler rethrows `value` as it is.
      const data = { id, type: 'HANDLER', name: 'throw', value: { isError: false, value: error } };
      for (const listener of listeners) {
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      }
    }
    owed.clear();
  });
  return {
    postMessage: (message, transfer) => {
      const id = idOf(message);
      if (id !== undefined) owed.add(id);
      endpoint.postMessage(message, transfer);
    },
    addEventListener: (type, listener, options) => {
      listeners.add(listener as Listener);
      endpoint.addEventListener(type, listener, options);
    },
    removeEventListener: (type, listener, options) => {
      listeners.delete(listener as Listener);
      endpoint.removeEventListener(type, listener, options);
    },
  };
}
