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
