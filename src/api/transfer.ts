// Bytes a call's arguments hold that the caller made for that call alone: on SQLite the
// writer client moves them to the writer thread (a transfer) instead of copying them. Once
// the call is sent they are detached on the caller's side (zero length), so only a caller
// that never reads its arguments again may mark them: the LangGraph saver marks the bytes
// it serialized for a put.

const TRANSFERS = new WeakMap<readonly unknown[], ArrayBuffer[]>();

/**
 * True when `bytes` spans a whole ArrayBuffer of its own (not a view into a larger or shared
 * buffer, such as Node's Buffer pool), which can be moved without taking anything else with it.
 */
export function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength > 0;
}

/** Marks the buffers of `args` that may be moved to the thread that runs the call. */
export function transferOnSend<A extends readonly unknown[]>(args: A, buffers: readonly ArrayBuffer[]): A {
  if (buffers.length > 0) TRANSFERS.set(args, [...buffers]);
  return args;
}

/** The buffers marked for `args`, still attached, without repeats; undefined when none. */
export function transfersOf(args: readonly unknown[]): ArrayBuffer[] | undefined {
  const buffers = TRANSFERS.get(args);
  if (buffers === undefined) return undefined;
  TRANSFERS.delete(args);
  return buffers;
}
