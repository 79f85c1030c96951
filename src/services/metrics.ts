import { decodeCursor } from '../catalogue/cursor.js';
import { metricsQuery, metricsRecord } from '../catalogue/metrics.js';
import type { StoreEngine } from '../api/engine.js';
import type { Metric, MetricQuery, Page, RecordMetricOptions } from '../api/types.js';
import * as v from '../api/validate.js';

/** Metrics: named, non-negative measurements with labels. */
export class Metrics {
  readonly #engine: StoreEngine;

  /**
   * Each Store makes its own, on its engine: use `store.<service>`.
   *
   * @internal
   */
  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /**
   * Records a measurement.
   *
   * @example
   * await store.metrics.record('tokens', 1532, { labels: { model: 'large', sessionId } });
   */
  record(name: string, value: number, options?: RecordMetricOptions): Promise<Metric> {
    return this.#engine.call(metricsRecord, () => {
      const o = v.options('options', options, ['labels', 'ctx'] as const);
      return [
        v.identifier('name', name),
        v.finiteNumber('value', value, 0),
        v.optionalJsonObject('labels', o.labels, this.#engine.options.maxPayloadBytes),
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /** A metric's measurements in a time range, newest first. */
  query(query: MetricQuery): Promise<Page<Metric>> {
    return this.#engine.call(metricsQuery, () => {
      const o = v.options('query', query, ['name', 'since', 'until', 'limit', 'cursor'] as const);
      return [
        v.identifier('name', o.name),
        o.since === undefined ? null : v.timestamp('since', o.since),
        o.until === undefined ? null : v.timestamp('until', o.until),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number]),
      ] as const;
    }, query?.signal);
  }
}
