/** Levels of nesting walked before a value is taken as not shareable (a cycle ends there too). */
const MAX_DEPTH = 256;

/**
 * True when `deepFreeze` leaves nothing of `value` that a caller can change, so one decoded
 * value can be handed to every caller: each object reachable from it is an array or an
 * object whose contents are its own properties. Not so for a Map, Set, WeakMap, WeakSet,
 * Date, RegExp (its `lastIndex`), ArrayBuffer or typed array: Object.freeze leaves their
 * contents writable (or makes them throw on use). Nor for a LangChain message without an
 * id, which LangGraph itself changes. A value of more than 256 levels of objects,
 * or one that contains itself (on which deepFreeze would not end), is not shareable either.
 * `checked`: objects already found shareable, so a value that shares parts is walked once.
 */
export function isShareable(value: unknown, depth = 0, checked = new Set<object>()): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (checked.has(value)) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isShareable(item, depth + 1, checked)) return false;
  } else {
    if (
      ArrayBuffer.isView(value) ||
      value instanceof ArrayBuffer ||
      value instanceof Map ||
      value instanceof Set ||
      value instanceof WeakMap ||
      value instanceof WeakSet ||
      value instanceof Date ||
      value instanceof RegExp ||
      (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)
    ) {
      return false;
    }
    // A LangChain message without an id: LangGraph's messages reducer gives it one in place
    // (its `id` and `lc_kwargs.id`), on the values a checkpoint hands it.
    if (Object.hasOwn(value, 'lc_kwargs') && (value as { id?: unknown }).id == null) return false;
    for (const key of Object.keys(value)) if (!isShareable((value as Record<string, unknown>)[key], depth + 1, checked)) return false;
  }
  // Added once every part is known shareable: an object met again on its own path (a cycle) is not in it yet.
  checked.add(value);
  return true;
}

/**
 * Freezes `value` and everything reachable from it when it is {@link isShareable} (true),
 * else leaves it as it is (false). Unlike `deepFreeze`, it also freezes what an object
 * frozen already holds.
 */
export function freezeShared(value: unknown): boolean {
  const objects = new Set<object>();
  if (!isShareable(value, 0, objects)) return false;
  for (const object of objects) Object.freeze(object);
  return true;
}
