import { invalidArgument } from '../api/errors.js';
import type { Page } from '../api/types.js';

/** A position in a keyset-ordered list: the sort key values of the last row returned. */
export type CursorValues = readonly (string | number | null)[];

export function encodeCursor(values: CursorValues): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks it has the shape its list expects ('s' string, 'S' string or null, 'n' number). */
export function decodeCursor(cursor: string, shape: string): (string | number | null)[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('cursor is not one this list returned');
  }
  const ok =
    Array.isArray(values) &&
    values.length === shape.length &&
    values.every((v, i) =>
      shape[i] === 'n' ? Number.isSafeInteger(v) : typeof v === 'string' || (shape[i] === 'S' && v === null),
    );
  if (!ok) throw invalidArgument('cursor is not one this list returned');
  return values as (string | number | null)[];
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only tells that another
 * page exists. The cursor is taken from the last item kept (and its row, for a value
 * the statement selected beside the table's columns, such as rowid).
 */
export function toPage<R, T>(
  rows: readonly R[],
  limit: number,
  decode: (row: R) => T,
  cursorOf: (item: T, row: R) => CursorValues,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const items = kept.map((row) => decode(row));
  return {
    items,
    nextCursor: more ? encodeCursor(cursorOf(items[items.length - 1]!, kept[kept.length - 1]!)) : undefined,
  };
}
