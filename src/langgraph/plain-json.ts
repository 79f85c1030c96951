import { JsonPlusSerializer, type SerializerProtocol } from '@langchain/langgraph-checkpoint';

// LangGraph's default serializer (JsonPlusSerializer) writes JSON through a replacer that
// it calls for every value in the tree (to encode undefined, Set, Map, RegExp, Error,
// Uint8Array and Send), after a walk that looks for cycles; it reads JSON back through an
// async reviver that copies every object and array and awaits every value. Checkpoints
// are mostly plain JSON (objects, arrays, strings, numbers, booleans, null), for which
// both do nothing but cost: for those this module writes the same bytes with
// JSON.stringify alone and reads the same values with JSON.parse alone. Anything else
// goes to the serializer as before.

/** Levels of nesting checked before a value is handed to the serializer instead (a cycle ends there too). */
const MAX_DEPTH = 256;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * True when `value` is JSON as it is: null, a boolean, a number, a string, or an array or
 * object (of Object.prototype or none) of such values. Then the default serializer's
 * replacer returns every value of it unchanged, so its text is JSON.stringify's.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (value === null) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  // undefined, bigint, symbol and functions: the serializer encodes or drops them in its own way.
  if (type !== 'object' || depth >= MAX_DEPTH) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    // A hole reads as undefined, which the serializer encodes: not plain.
    for (let i = 0; i < array.length; i++) if (!isPlainJson(array[i], depth + 1)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  const object = value as Record<string, unknown>;
  // for-in rather than Object.keys: no array per object. It would also see enumerable keys
  // added to Object.prototype, which JSON.stringify ignores: at worst a plain value is
  // handed to the serializer.
  for (const key in object) if (!isPlainJson(object[key], depth + 1)) return false;
  return true;
}

/**
 * True when JSON.parse's result is what the default serializer's reviver makes of it: no
 * object in it has an `lc` key (every record the reviver turns into something else has
 * one) or an own `__proto__` key (which the reviver's copy would turn into a prototype).
 */
function needsNoReviver(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!needsNoReviver(value[i], depth + 1)) return false;
    return true;
  }
  const object = value as Record<string, unknown>;
  if (Object.hasOwn(object, 'lc') || Object.hasOwn(object, '__proto__')) return false;
  for (const key in object) if (!needsNoReviver(object[key], depth + 1)) return false;
  return true;
}

/** A value serialized: its type tag, its bytes, and its JSON text when asked for and plain JSON. */
export interface Serialized {
  type: string;
  bytes: Uint8Array;
  /**
   * The JSON text the bytes hold, when it was asked for and the value was plain JSON (so a
   * caller need not stringify it again). Only when asked for: a text held while its write
   * is in flight outlives the young generation's collections, and a checkpoint's text is
   * as long as its largest channel.
   */
  json: string | undefined;
}

/**
 * The serializer of a saver, with JsonPlusSerializer's plain-JSON values written and read
 * without its replacer and reviver. Only an instance of JsonPlusSerializer itself (not a
 * subclass, no method of its own) takes the short path; any other serializer is called
 * as it is. Bytes are always the caller's own: a serializer's `bytes` output is copied.
 */
export class FastSerde {
  readonly #serde: SerializerProtocol;
  readonly #plain: boolean;

  constructor(serde: SerializerProtocol) {
    this.#serde = serde;
    this.#plain =
      Object.getPrototypeOf(serde) === JsonPlusSerializer.prototype &&
      !Object.hasOwn(serde, 'dumpsTyped') &&
      !Object.hasOwn(serde, 'loadsTyped') &&
      !Object.hasOwn(serde, '_dumps') &&
      !Object.hasOwn(serde, '_loads');
  }

  /** The serializer this one stands for. */
  get serde(): SerializerProtocol {
    return this.#serde;
  }

  /** Whether plain JSON takes the short path. */
  get plain(): boolean {
    return this.#plain;
  }

  /** Serializes synchronously when it can (plain JSON); undefined when the serializer must. `keepText`: the result keeps the JSON text too. */
  dumpSync(value: unknown, keepText = false): Serialized | undefined {
    if (!this.#plain || !isPlainJson(value)) return undefined;
    const json = JSON.stringify(value);
    return { type: 'json', bytes: ENCODER.encode(json), json: keepText ? json : undefined };
  }

  /** Serializes through the serializer (the value is not plain JSON, or the serializer is not the default). */
  async dumpWithSerde(value: unknown): Promise<Serialized> {
    const [type, bytes] = await this.#serde.dumpsTyped(value);
    // The serializer's own bytes: copied, so a later change to them cannot reach the database.
    return { type, bytes: type === 'bytes' ? bytes.slice() : bytes, json: undefined };
  }

  /** What the serializer reads from (type, bytes); plain JSON without its reviver. */
  load(type: string, bytes: Uint8Array): unknown {
    if (this.#plain && type === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(DECODER.decode(bytes));
      } catch {
        return this.#serde.loadsTyped(type, bytes);
      }
      if (needsNoReviver(parsed)) return parsed;
    }
    return this.#serde.loadsTyped(type, bytes);
  }
}
