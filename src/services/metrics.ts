import { decodeCursor } from '../catalogue/cursor.js';
import { metricsQuery, metricsRecord } from '../catalogue/metrics.js';
import type { StoreEngine } from './engine.js';
import type { AuditContext, JsonObject, Metric, Page } from '../api/types.js';
import * as v from '../api/validate.js';

export interface MetricQuery {
  name: string;
  /** From this time (inclusive). */
  since?: Date | string | number;
  /** Up to this time (exclusive). */
  until?: Date | string | number;
  limit?: number;
  cursor?: string;
}

/** Metrics: named, non-negative measurements with labels. */
export class Metrics {
  readonly #engine: StoreEngine;

  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /**
   * Records a measurement.
   *
   * @example
   * await store.metrics.record('tokens', 1532, { labels: { model: 'large', sessionId } });
   */
  record(name: string, value: number, options?: { labels?: JsonObject; ctx?: AuditContext }): Promise<Metric> {
    return this.#engine.call(metricsRecord, () => {
      const o = v.options('options', options, ['labels', 'ctx'] as const);
      return [
        v.identifier('name', name),
        v.finiteNumber('value', value, 0),
        v.optionalJsonObject('labels', o.labels),
        v.auditContext(o.ctx),
      ] as const;
    });
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
    });
  }
}
