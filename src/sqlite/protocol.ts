import type { WireError } from '../api/errors.js';

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

export function encodeOutcomes(outcomes: readonly Outcome[]): ReadBatchResponse {
  const response: ReadBatchResponse = [];
  for (const outcome of outcomes) {
    if (outcome.ok) response.push(1, outcome.value);
    else response.push(0, outcome.error);
  }
  return response;
}

/** Writer → main: one outcome per call, in order, after the shared COMMIT. */
export interface WriteBatchResponse {
  outcomes: Outcome[];
  /** Size of the WAL file after the commit and any checkpoint it triggered. */
  walBytes: number;
}
