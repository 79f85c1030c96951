import { State } from '@google/adk';

// ADK's state scopes. A key `app:k` belongs to every session of the app, `user:k` to every
// session of one user of the app, `temp:k` to the current invocation only (never stored),
// any other key to the session. The store keeps app and user keys without their prefix in
// their own tables; a session's state as ADK sees it is the three merged, prefixes restored.

export type StateRecord = Record<string, unknown>;

export interface ScopedState {
  session: StateRecord;
  app: StateRecord;
  user: StateRecord;
}

/** Splits a state or a state delta by scope, dropping temp: keys. */
export function splitScopes(state: StateRecord): ScopedState {
  const scoped: ScopedState = { session: {}, app: {}, user: {} };
  for (const [key, value] of Object.entries(state)) {
    if (key.startsWith(State.TEMP_PREFIX)) continue;
    if (key.startsWith(State.APP_PREFIX)) scoped.app[key.slice(State.APP_PREFIX.length)] = value;
    else if (key.startsWith(State.USER_PREFIX)) scoped.user[key.slice(State.USER_PREFIX.length)] = value;
    else scoped.session[key] = value;
  }
  return scoped;
}

/** The state ADK sees: the session's own keys, then app: keys, then user: keys (as ADK's mergeStates). */
export function mergeScopes(session: StateRecord, app: StateRecord, user: StateRecord): StateRecord {
  const merged: StateRecord = { ...session };
  for (const [key, value] of Object.entries(app)) merged[State.APP_PREFIX + key] = value;
  for (const [key, value] of Object.entries(user)) merged[State.USER_PREFIX + key] = value;
  return merged;
}

/** A state without its temp: keys (a plain copy). */
export function withoutTemp(state: StateRecord): StateRecord {
  const kept: StateRecord = {};
  for (const [key, value] of Object.entries(state)) if (!key.startsWith(State.TEMP_PREFIX)) kept[key] = value;
  return kept;
}

/**
 * Makes `state` hold `stored`, in place: the Runner's tools and callbacks hold this very
 * object (a State wraps it), and temp: keys written during the invocation must survive,
 * so the object is updated, never replaced.
 */
export function refreshState(state: StateRecord, stored: StateRecord): void {
  for (const key of Object.keys(state)) {
    if (!key.startsWith(State.TEMP_PREFIX) && !Object.hasOwn(stored, key)) delete state[key];
  }
  for (const [key, value] of Object.entries(stored)) {
    Object.defineProperty(state, key, { value, writable: true, enumerable: true, configurable: true });
  }
}
