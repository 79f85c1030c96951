/**
 * One 'abort' listener per AbortSignal, however many waiting calls carry it. A caller
 * that shares one signal among many calls (a request's, a session's) would otherwise add
 * a listener per waiting call, and past ten Node prints MaxListenersExceededWarning.
 */

interface Listening {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const listening = new WeakMap<AbortSignal, Listening>();

/**
 * Runs `callback` when `signal` aborts, unless the returned function is called first;
 * callbacks of one signal run in the order they were added. The signal must not have
 * aborted yet: callers refuse an aborted signal before they queue anything.
 */
export function listenForAbort(signal: AbortSignal, callback: () => void): () => void {
  let current = listening.get(signal);
  if (current === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      listening.delete(signal);
      // A callback that detaches another, not yet run, keeps it from running.
      for (const waiting of callbacks) {
        callbacks.delete(waiting);
        waiting();
      }
    };
    current = { callbacks, listener };
    listening.set(signal, current);
    signal.addEventListener('abort', listener, { once: true });
  }
  const own = current;
  // An entry of its own, so that one function given twice is two entries.
  const entry = (): void => callback();
  own.callbacks.add(entry);
  return () => {
    if (!own.callbacks.delete(entry) || own.callbacks.size > 0 || listening.get(signal) !== own) return;
    listening.delete(signal);
    signal.removeEventListener('abort', own.listener);
  };
}
