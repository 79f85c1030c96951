import { build, type Histogram } from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import type { BatchSummary, LatencySummary } from '../api/types.js';

export type { BatchSummary, LatencySummary };

const histogram = (): Histogram =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });

const summarize = (h: Histogram): LatencySummary => ({
  count: h.totalCount,
  p50: h.getValueAtPercentile(50),
  p90: h.getValueAtPercentile(90),
  p99: h.getValueAtPercentile(99),
  max: h.maxValue,
  mean: Math.round(h.mean * 10) / 10,
});

class BatchCounter {
  batches = 0;
  calls = 0;
  max = 0;
  add(size: number): void {
    this.batches++;
    this.calls += size;
    if (size > this.max) this.max = size;
  }
  reset(): void {
    this.batches = this.calls = this.max = 0;
  }
  summary(): BatchSummary {
    return {
      batches: this.batches,
      calls: this.calls,
      mean: this.batches === 0 ? 0 : Math.round((this.calls / this.batches) * 10) / 10,
      max: this.max,
    };
  }
}

/** Counters the engine keeps on the caller's thread: latencies per operation, batch sizes. */
export class EngineStats {
  readonly #latency = new Map<string, Histogram>();
  readonly readBatches = new BatchCounter();
  readonly writeBatches = new BatchCounter();

  /** Records the time from `start` to `end` (performance.now() readings) for one operation. */
  recordLatency(name: string, start: number, end = performance.now()): void {
    let h = this.#latency.get(name);
    if (h === undefined) {
      h = histogram();
      this.#latency.set(name, h);
    }
    h.recordValue(Math.max(1, Math.round((end - start) * 1000)));
  }

  latency(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [name, h] of [...this.#latency].sort(([a], [b]) => a.localeCompare(b))) out[name] = summarize(h);
    return out;
  }

  reset(): void {
    for (const h of this.#latency.values()) h.reset();
    this.readBatches.reset();
    this.writeBatches.reset();
  }
}
