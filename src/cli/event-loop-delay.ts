import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 1;

/**
 * Measures how late the caller's event loop runs a timer. Node's histogram records the
 * whole interval between firings (resolution + lateness); the summary subtracts the
 * resolution, so an idle loop reads about 0 ms.
 */
export class EventLoopDelay {
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  start(): void {
    this.#histogram.enable();
  }

  stop(): void {
    this.#histogram.disable();
  }

  /** Milliseconds, to two decimals. */
  summary(): { p50: number; p99: number; max: number } {
    const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
    const h = this.#histogram;
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
  }
}
