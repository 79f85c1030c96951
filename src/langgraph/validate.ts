import { invalidArgument } from '../api/errors.js';
import { Store } from '../store.js';

// Argument checks of the LangGraph adapter, run on the caller's thread before anything is
// queued. Each throws StoreError('INVALID_ARGUMENT') naming what was wrong.

/** Longest thread id, namespace, checkpoint id, task id or path, store namespace or key. */
export const MAX_NAME = 4096;

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'null-prototype'} object`;
  // A function or a symbol: its kind, not its source text.
  return typeof value;
}

/** A string from a RunnableConfig (thread_id, checkpoint_ns, checkpoint_id) or a task id. */
export function configText(name: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string, got ${describeValue(value)}`);
  if (value.length === 0 && !allowEmpty) throw invalidArgument(`${name} must not be empty`);
  if (value.length > MAX_NAME) throw invalidArgument(`${name} must be at most ${MAX_NAME} characters, got ${value.length}`);
  return value;
}

export function storeOf(adapter: string, store: unknown): Store {
  if (!(store instanceof Store)) {
    throw invalidArgument(`${adapter} needs a Store from openStore(), got ${describeValue(store)}; or use ${adapter}.fromPath(path)`);
  }
  return store;
}

const CONTROL = /[\u0000-\u001f]/;

export interface NamespaceRules {
  /** `[]` is accepted (search and list everything). */
  allowEmpty?: boolean;
  /** The root label `langgraph`, which LangGraph reserves for itself, is accepted. */
  allowReservedRoot?: boolean;
}

/**
 * A store namespace: an array of labels, as LangGraph's `validateNamespace` wants them
 * (strings, not empty, no '.' or ':' or NUL) and with no control character either, so
 * that a label can never hold the stored separator.
 */
export function namespaceLabels(name: string, value: unknown, rules: NamespaceRules = {}): string[] {
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array of strings like ["users", "alice"], got ${describeValue(value)}`);
  if (value.length === 0 && rules.allowEmpty !== true) throw invalidArgument(`${name} must not be empty`);
  let length = 0;
  value.forEach((label: unknown, i) => {
    const where = `${name}[${i}]`;
    if (typeof label !== 'string') throw invalidArgument(`${where} must be a string, got ${describeValue(label)}`);
    if (label.length === 0) throw invalidArgument(`${where} must not be empty`);
    if (label.includes('.')) throw invalidArgument(`${where} must not contain '.', got ${describeValue(label)}`);
    if (label.includes(':')) throw invalidArgument(`${where} must not contain ':', got ${describeValue(label)}`);
    if (label.includes('\0')) throw invalidArgument(`${where} must not contain a NUL character`);
    if (CONTROL.test(label)) throw invalidArgument(`${where} must not contain control characters`);
    length += label.length + 1;
  });
  if (length > MAX_NAME) throw invalidArgument(`${name} must be at most ${MAX_NAME} characters in all, got ${length}`);
  if (value[0] === 'langgraph' && rules.allowReservedRoot !== true) {
    throw invalidArgument(`${name} must not start with "langgraph", which LangGraph reserves for itself`);
  }
  return value as string[];
}
