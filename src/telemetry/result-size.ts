/**
 * Rows and approximate bytes of a call's result, for a recording span: rows are an
 * array's length or a page's `items`, 0 for nothing and 1 for one value; bytes count
 * strings by their length (UTF-16 code units, bytes for ASCII text), numbers as 8,
 * booleans as 1, keys included. Walked only when a span records, never otherwise.
 */
export function resultSize(value: unknown): { rows: number; bytes: number } {
  return { rows: rowsOf(value), bytes: bytesOf(value, 0) };
}

function rowsOf(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (Array.isArray(value)) return value.length;
  const items = (value as { items?: unknown }).items;
  return Array.isArray(items) ? items.length : 1;
}

/** Deeper than this is not walked: a result is JSON from the store, never that deep in practice. */
const MAX_DEPTH = 64;

function bytesOf(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null || depth >= MAX_DEPTH) return 0;
      let bytes = 0;
      if (Array.isArray(value)) {
        for (const item of value) bytes += bytesOf(item, depth + 1);
      } else if (ArrayBuffer.isView(value)) {
        bytes += value.byteLength;
      } else {
        for (const key in value) bytes += key.length + bytesOf((value as Record<string, unknown>)[key], depth + 1);
      }
      return bytes;
    }
    default:
      return 0;
  }
}
