import { invalidArgument, type StoreError } from './errors.js';
import type { AuditContext } from './types.js';

// Argument checks, run on the caller's thread before a call is queued. Each throws
// StoreError('INVALID_ARGUMENT') with a message that names the argument and says what
// was expected; the facade turns the throw into a rejected promise.

const MAX_TEXT = 1 << 20;
const MAX_NAME = 1024;
const MAX_JSON_DEPTH = 512;
const CONTROL = /[\u0000-\u001f\u007f]/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'object') {
    const kind = (value.constructor as { name?: string } | undefined)?.name;
    if (kind === undefined) return 'a null-prototype object';
    if (kind === 'Object') return 'an object';
    return `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind} object`;
  }
  return typeof value;
}

/** `a`, `a and b`, `a, b and c`. */
const listed = (names: readonly string[]): string =>
  names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;

/** Any string, up to 1 MiB of text (prompts, titles, error messages). */
export function text(name: string, value: unknown, max = MAX_TEXT): string {
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string, got ${describe(value)}`);
  if (value.length > max) throw invalidArgument(`${name} must be at most ${max} characters, got ${value.length}`);
  return value;
}

export function optionalText(name: string, value: unknown, max = MAX_TEXT): string | null {
  return value === undefined || value === null ? null : text(name, value, max);
}

/** An identifier or key: non-empty, at most 1024 characters, no control characters. */
export function identifier(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw invalidArgument(`${name} must not be empty`);
  if (value.length > MAX_NAME) throw invalidArgument(`${name} must be at most ${MAX_NAME} characters, got ${value.length}`);
  if (CONTROL.test(value)) throw invalidArgument(`${name} must not contain control characters`);
  return value;
}

export function optionalIdentifier(name: string, value: unknown): string | null {
  return value === undefined || value === null ? null : identifier(name, value);
}

/** A colon-separated namespace such as `user:alice:preferences`: no empty segment. */
export function namespace(name: string, value: unknown): string {
  const ns = identifier(name, value);
  if (ns.split(':').some((segment) => segment.length === 0)) {
    throw invalidArgument(`${name} must be colon-separated non-empty segments (like user:alice:preferences), got ${describe(ns)}`);
  }
  return ns;
}

/** An id that becomes one segment of a namespace (`user:<id>`): no colon, or it would reach into another scope. */
export function segment(name: string, value: unknown): string {
  const id = identifier(name, value);
  if (id.includes(':')) throw invalidArgument(`${name} must not contain ':' (it names one namespace segment), got ${describe(id)}`);
  return id;
}

export function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function optionalInteger(name: string, value: unknown, min: number, max: number): number | null {
  return value === undefined || value === null ? null : integer(name, value, min, max);
}

export function finiteNumber(name: string, value: unknown, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalidArgument(`${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${describe(value)}`);
  }
  return value;
}

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(`${name} must be true or false, got ${describe(value)}`);
  return value;
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(`${name} must be one of ${allowed.join(', ')}; got ${describe(value)}`);
  }
  return value as T;
}

function checkJson(value: unknown, path: string, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalidArgument(`${path} is ${value}, which JSON cannot hold`);
      return;
    case 'object': {
      if (value === null) return;
      if (ancestors.includes(value)) throw invalidArgument(`${path} refers back to itself (a cycle), which JSON cannot hold`);
      if (ancestors.length >= MAX_JSON_DEPTH) throw invalidArgument(`${path} nests deeper than ${MAX_JSON_DEPTH} levels`);
      ancestors.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw invalidArgument(`${path}[${i}] is undefined, which JSON cannot hold`);
          checkJson(value[i], `${path}[${i}]`, ancestors);
        }
      } else {
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          throw invalidArgument(`${path} is ${describe(value)}, not a plain object or array; convert it first`);
        }
        for (const [key, item] of Object.entries(value)) {
          // Undefined properties are left out, as JSON.stringify does.
          if (item !== undefined) checkJson(item, `${path}.${key}`, ancestors);
        }
      }
      ancestors.pop();
      return;
    }
    default:
      throw invalidArgument(`${path} is ${describe(value)}, which JSON cannot hold`);
  }
}

/**
 * Refuses JSON text longer than `maxBytes` of UTF-8: the `maxPayloadBytes` limit, checked
 * before a call is queued, so an oversized value never holds the one writer.
 */
export function withinBytes(name: string, text: string, maxBytes: number, limitName = 'maxPayloadBytes'): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most texts pass without being counted.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      throw invalidArgument(`${name} is ${bytes} bytes of JSON, over the ${maxBytes}-byte limit (${limitName}); nothing was written`);
    }
  }
  return text;
}

/** Checks that a value survives JSON unchanged and fits `maxBytes`; returns its JSON text. */
export function json(name: string, value: unknown, maxBytes: number): string {
  checkJson(value, name, []);
  return withinBytes(name, JSON.stringify(value), maxBytes);
}

export function optionalJson(name: string, value: unknown, maxBytes: number): string | null {
  return value === undefined || value === null ? null : json(name, value, maxBytes);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A JSON object (not an array, not null), as JSON text of at most `maxBytes`. */
export function jsonObject(name: string, value: unknown, maxBytes: number): string {
  if (!isPlainObject(value)) throw invalidArgument(`${name} must be a plain object, got ${describe(value)}`);
  return json(name, value, maxBytes);
}

export function optionalJsonObject(name: string, value: unknown, maxBytes: number): string | null {
  return value === undefined || value === null ? null : jsonObject(name, value, maxBytes);
}

// Most calls pass no options: one shared empty bag rather than a new object per call.
const NO_OPTIONS: Readonly<Partial<Record<string, unknown>>> = Object.freeze({});

/**
 * An options bag: undefined, or a plain object with only known keys. A misspelled key is
 * an error, not silently ignored. Every call's options (or input object) may also carry
 * `signal`, which the engine checks and uses; `call: false` refuses it (nested objects).
 * `required` keys must be present (not undefined): those missing are named together, in
 * one message, rather than one per attempt.
 */
export function options<K extends string>(
  name: string,
  value: unknown,
  known: readonly K[],
  { call = true, required = [] }: { call?: boolean; required?: readonly K[] } = {},
): Readonly<Partial<Record<K, unknown>>> {
  if (value === undefined || value === null) {
    if (required.length > 0) throw invalidArgument(`${name} must be an object with ${listed(required)}, got ${describe(value)}`);
    return NO_OPTIONS;
  }
  if (!isPlainObject(value)) {
    throw invalidArgument(`${name} must be an object${required.length > 0 ? ` with ${listed(required)}` : ''}, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (call && key === 'signal') continue;
    if (!(known as readonly string[]).includes(key)) {
      const close = known.find((k) => k.toLowerCase() === key.toLowerCase());
      throw invalidArgument(
        close === undefined
          ? `${name} has an unknown option "${key}" (known: ${[...known, ...(call ? ['signal'] : [])].join(', ') || 'none'})`
          : `${name}: misspelled option "${key}" should be "${close}"`,
      );
    }
  }
  const absent = required.filter((key) => value[key] === undefined);
  if (absent.length > 0) throw invalidArgument(`${name} is missing ${listed(absent)} (required)`);
  return value as Readonly<Partial<Record<K, unknown>>>;
}

/** Page size: default 50, at most 1000. */
export function limit(value: unknown, fallback = 50, max = 1000): number {
  return value === undefined ? fallback : integer('limit', value, 1, max);
}

/** The optional `{ taskId, agentId }` every write accepts. */
export function auditContext(value: unknown): AuditContext | undefined {
  if (value === undefined) return undefined;
  const ctx = options('ctx', value, ['taskId', 'agentId'] as const, { call: false });
  const taskId = optionalIdentifier('ctx.taskId', ctx.taskId);
  const agentId = optionalIdentifier('ctx.agentId', ctx.agentId);
  if (taskId === null && agentId === null) return undefined;
  return { ...(taskId === null ? {} : { taskId }), ...(agentId === null ? {} : { agentId }) };
}

/** A point in time as the schema stores it: a Date, epoch milliseconds or an ISO string. */
export function timestamp(name: string, value: unknown): string {
  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value);
  else if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)) {
    date = new Date(value);
  }
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw invalidArgument(`${name} must be a Date, epoch milliseconds or an ISO-8601 timestamp, got ${describe(value)}`);
  }
  return date.toISOString();
}

export function missing(name: string): StoreError {
  return invalidArgument(`${name} is required`);
}
