import { fromWireError, StoreError } from '../api/errors.js';
import type { Outcome } from './protocol.js';
import type { EngineStats } from './engine-stats.js';

/** An accepted call waiting for its worker's answer. */
export interface PendingCall {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: StoreError) => void;
  /** performance.now() when accepted, for the latency histogram. */
  readonly start: number;
}

export function succeed(call: PendingCall, value: unknown, stats: EngineStats): void {
  stats.recordLatency(call.name, call.start);
  call.resolve(value);
}

export function fail(call: PendingCall, error: StoreError, stats: EngineStats): void {
  stats.recordLatency(call.name, call.start);
  call.reject(error);
}

export function settle(call: PendingCall, outcome: Outcome, stats: EngineStats): void {
  if (outcome.ok) succeed(call, outcome.value, stats);
  else fail(call, fromWireError(outcome.error), stats);
}
