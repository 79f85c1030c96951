import pg from 'pg';

// What the store's connections send, seen from node-postgres's Client.query (the store's
// pool makes its clients from the same module): round trips counted, and faults planted
// between the server's answer and the store.

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

interface Watch {
  trips: number;
  statements: string[];
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its client as `this`
const original = pg.Client.prototype.query as unknown as Query;
const outstanding = new WeakMap<pg.Client, number>();
let watch: Watch | undefined;
/** Called with each statement's text before it is sent; may return an error to report instead of the server's answer. */
let fault: ((text: string) => Error | undefined) | undefined;

const textOf = (config: unknown): string => (typeof config === 'string' ? config : String((config as { text?: unknown }).text));

function patched(this: pg.Client, ...args: unknown[]): unknown {
  const result = original.apply(this, args);
  if (!(result instanceof Promise)) return result;
  const text = textOf(args[0]);
  if (watch !== undefined) {
    // A query sent while another on the same connection is unanswered rides its round trip.
    const waiting = outstanding.get(this) ?? 0;
    if (waiting === 0) watch.trips++;
    watch.statements.push(text);
    outstanding.set(this, waiting + 1);
    void result.then(
      () => outstanding.set(this, outstanding.get(this)! - 1),
      () => outstanding.set(this, outstanding.get(this)! - 1),
    );
  }
  const planted = fault?.(text);
  if (planted === undefined) return result;
  // The server ran it and answered; the store hears that the connection dropped.
  return result.then(
    () => {
      throw planted;
    },
    () => {
      throw planted;
    },
  );
}

pg.Client.prototype.query = patched as unknown as typeof pg.Client.prototype.query;

/** Runs `call` and counts the round trips the store's connections made for it. */
export async function roundTrips<T>(call: () => Promise<T>): Promise<{ value: T; trips: number; statements: string[] }> {
  if (watch !== undefined) throw new Error('roundTrips calls do not nest');
  const current: Watch = { trips: 0, statements: [] };
  watch = current;
  try {
    const value = await call();
    return { value, trips: current.trips, statements: current.statements };
  } finally {
    watch = undefined;
  }
}

/**
 * The next statement whose text `matches` runs on the server, and then its connection is
 * reported lost: the store cannot know whether it took effect.
 */
export function loseAnswerOnce(matches: (text: string) => boolean): void {
  fault = (text) => {
    if (!matches(text)) return undefined;
    fault = undefined;
    return new Error('Connection terminated unexpectedly');
  };
}
