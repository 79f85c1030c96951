import type { WireError } from '../api/errors.js';
import { resultSize } from '../telemetry/result-size.js';

// Messages between the caller's thread and the workers. They carry operation names and
// plain arguments, never SQL text.

/** One operation to run: its catalogue name and its already-validated arguments. */
export type OperationCall = readonly [name: string, args: readonly unknown[]];

/** What one operation came to. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: WireError };

/**
 * Main → reader (one message): the reads coalesced from one tick, flat: a name, its
 * argument count, the arguments, the next name, … One flat array clones in about half
 * the time an array of [name, args] pairs does, and one crosses for every batch.
 */
export type ReadBatchRequest = unknown[];

/** Reader → main: for each call in order, 1 and the value, or 0 and the WireError. */
export type ReadBatchResponse = unknown[];

export function appendCall(request: ReadBatchRequest, name: string, args: readonly unknown[]): void {
  request.push(name, args.length);
  for (const arg of args) request.push(arg);
}

export function decodeReadBatch(request: ReadBatchRequest): OperationCall[] {
  const calls: OperationCall[] = [];
  for (let i = 0; i < request.length; ) {
    const count = request[i + 1] as number;
    calls.push([request[i] as string, request.slice(i + 2, i + 2 + count)]);
    i += 2 + count;
  }
  return calls;
}

/**
 * About how many bytes of rows one page of a large answer carries (strings by length,
 * numbers as 8; telemetry/result-size.ts). The caller's thread deserializes each message
 * in one piece, in one macrotask: about 0.5 ms for a page this size on a 2-core machine,
 * about the settler's slice. Every page also costs a turn of the event loop and a
 * wake-up (about 30 µs measured there), so pages are not made smaller than they need be.
 */
export const PAGE_BYTES = 256 * 1024;

/** Arrays shorter than this are never paged (their size is not even estimated). */
const MIN_PAGED_ROWS = 32;

/** Rows sampled, evenly spaced, to estimate an array's bytes per row. */
const SAMPLED_ROWS = 8;

/**
 * Reader → main: a batch's answer, then the pages of its large values. The first message
 * is the flat response; each value that holds an array of more than about `pageBytes` (the
 * value itself, or an own property of a plain object: a session's `events`, a page's
 * `items`) is sent as status 2 and a PagedValue, its rows following in messages of their
 * own, in order. A response with pages behind it has an odd length: its last element is
 * how many page messages follow.
 */
export function encodeOutcomes(outcomes: readonly Outcome[], pageBytes = PAGE_BYTES): ReadBatchResponse[] {
  const response: ReadBatchResponse = [];
  const messages = [response];
  for (const outcome of outcomes) {
    if (!outcome.ok) response.push(0, outcome.error);
    else if (!pageable(outcome.value, pageBytes)) response.push(1, outcome.value);
    else response.push(2, pageValue(outcome.value as object, pageBytes, messages));
  }
  if (messages.length > 1) response.push(messages.length - 1);
  return messages;
}

/** Rows per page for `rows`, or 0 when it fits in one: from the sizes of a few rows. */
export function rowsPerPage(rows: readonly unknown[], pageBytes: number): number {
  if (rows.length < MIN_PAGED_ROWS) return 0;
  const step = rows.length / SAMPLED_ROWS;
  let sampled = 0;
  for (let i = 0; i < SAMPLED_ROWS; i++) sampled += resultSize(rows[Math.floor(i * step)]).bytes;
  const perRow = Math.max(1, sampled / SAMPLED_ROWS);
  if (perRow * rows.length <= pageBytes) return 0;
  return Math.max(1, Math.floor(pageBytes / perRow));
}

/**
 * A value whose long arrays follow as pages: `[shell, key, pages, key, pages, …]`, for
 * each array in order the property of `shell` it fills (null: the value is the array
 * itself) and how many page messages carry its rows.
 */
export type PagedValue = unknown[];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

function pageable(value: unknown, pageBytes: number): boolean {
  if (Array.isArray(value)) return rowsPerPage(value, pageBytes) > 0;
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    const property = value[key];
    if (Array.isArray(property) && rowsPerPage(property, pageBytes) > 0) return true;
  }
  return false;
}

function pageValue(value: object, pageBytes: number, messages: unknown[][]): PagedValue {
  if (Array.isArray(value)) return [undefined, null, pushPages(value, rowsPerPage(value, pageBytes), messages)];
  // A shallow copy whose long arrays are empty until their pages arrive; keys keep their order.
  const shell: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const paged: PagedValue = [shell];
  for (const key in shell) {
    const property = shell[key];
    const rows = Array.isArray(property) ? rowsPerPage(property, pageBytes) : 0;
    if (rows > 0) {
      shell[key] = [];
      paged.push(key, pushPages(property as unknown[], rows, messages));
    }
  }
  return paged;
}

function pushPages(rows: readonly unknown[], pageRows: number, messages: unknown[][]): number {
  let pages = 0;
  for (let i = 0; i < rows.length; i += pageRows, pages++) messages.push(rows.slice(i, i + pageRows));
  return pages;
}

/**
 * The caller's side of a paged answer: started by a response with pages behind it, fed
 * the page messages in order, and done once the last one is in; then `response` is the
 * flat answer as an unpaged one would have been (each value whole, status 1).
 */
export class PageAssembly {
  readonly response: ReadBatchResponse;
  /** The arrays the coming pages fill, in order, and how many pages each still takes. */
  readonly #arrays: unknown[][] = [];
  readonly #counts: number[] = [];
  #target = 0;
  #pages: number;

  /** The assembly a response needs, or undefined when it is whole (an even length). */
  static of(response: ReadBatchResponse): PageAssembly | undefined {
    return (response.length & 1) === 0 ? undefined : new PageAssembly(response);
  }

  private constructor(response: ReadBatchResponse) {
    this.#pages = response.pop() as number;
    this.response = response;
    for (let i = 0; i < response.length; i += 2) {
      if (response[i] !== 2) continue;
      const paged = response[i + 1] as PagedValue;
      const value = paged[1] === null ? [] : paged[0];
      for (let k = 1; k < paged.length; k += 2) {
        const key = paged[k] as string | null;
        this.#arrays.push((key === null ? value : (value as Record<string, unknown>)[key]) as unknown[]);
        this.#counts.push(paged[k + 1] as number);
      }
      response[i] = 1;
      response[i + 1] = value;
    }
  }

  /** Adds the next page's rows; true once the answer is whole. */
  add(page: readonly unknown[]): boolean {
    while (this.#counts[this.#target] === 0) this.#target++;
    const rows = this.#arrays[this.#target]!;
    for (const row of page) rows.push(row);
    this.#counts[this.#target]!--;
    return --this.#pages === 0;
  }
}

/** The answer that `messages` (a response and its pages, as encodeOutcomes made them) carry, whole, at once. */
export function wholeAnswer(messages: readonly ReadBatchResponse[]): ReadBatchResponse {
  const assembly = PageAssembly.of(messages[0]!);
  if (assembly === undefined) return messages[0]!;
  for (let i = 1; i < messages.length; i++) assembly.add(messages[i]!);
  return assembly.response;
}

/** Writer → main: one outcome per call, in order, after the shared COMMIT. */
export interface WriteBatchResponse {
  outcomes: Outcome[];
  /** Size of the WAL file after the commit and any checkpoint it triggered. */
  walBytes: number;
}
