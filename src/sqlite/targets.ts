import type { CheckReport } from '../diagnostics/check.js';

/** Where the engine sends the operations of one kind: the read pool or the writer. */
export interface OperationTarget {
  /** Queues a call; a `signal` that aborts while it still waits withdraws it (ABORTED). */
  submit(name: string, args: readonly unknown[], signal?: AbortSignal): Promise<unknown>;
  readonly queueDepth: number;
  /** Threads started to replace ones that died. */
  readonly restarts: number;
  /** Resolves once every accepted call has settled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface WriterTarget extends OperationTarget {
  readonly walBytes: number;
  readonly peakWalBytes: number;
  check(): Promise<CheckReport>;
}
