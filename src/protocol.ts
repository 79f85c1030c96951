import type { WireError } from './errors.js';

// Messages between the caller's thread and the workers. They carry operation names and
// plain arguments, never SQL text.

/** One operation to run: its catalogue name and its already-validated arguments. */
export type OperationCall = readonly [name: string, args: readonly unknown[]];

/** What one operation came to. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: WireError };

/** Main → reader (one Piscina task): the reads coalesced from one tick. */
export type ReadBatchRequest = readonly OperationCall[];

/** Reader → main: one outcome per call, in order. */
export type ReadBatchResponse = Outcome[];

/** Writer → main: one outcome per call, in order, after the shared COMMIT. */
export interface WriteBatchResponse {
  outcomes: Outcome[];
  /** Size of the WAL file after the commit and any checkpoint it triggered. */
  walBytes: number;
}
