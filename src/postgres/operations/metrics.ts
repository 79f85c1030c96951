import type { Metric } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import { metricsQuery, metricsRecord } from '../../catalogue/metrics.js';
import type { RawRow } from '../../catalogue/table.js';
import { METRICS } from '../../catalogue/tables.js';
import { implement } from '../operation.js';

export const pgMetricsRecord = implement(metricsRecord, {
  statements: { insert: `INSERT INTO metrics (metric_name, metric_value, labels) VALUES ($1, $2, $3::jsonb) RETURNING ${METRICS.columns}` },
  async run(q, [name, value, labels, ctx]) {
    const row = (await q.one('insert', [name, value, labels]))!;
    await q.audit(ctx, { action: 'metric_record', data: { name, value } });
    return METRICS.decode(row);
  },
});

// Newest first within [since, until); open bounds are ±infinity. Parameters: name, since,
// until, limit, then the cursor (timestamp, id).
const RANGE = "metric_name = $1 AND timestamp >= coalesce($2::timestamptz, '-infinity') AND timestamp < coalesce($3::timestamptz, 'infinity')";

export const pgMetricsQuery = implement(metricsQuery, {
  statements: {
    first: `SELECT ${METRICS.columns} FROM metrics WHERE ${RANGE} ORDER BY timestamp DESC, id DESC LIMIT $4`,
    next:
      `SELECT ${METRICS.columns} FROM metrics WHERE ${RANGE} AND (timestamp, id) < ($5::timestamptz, $6::bigint) ` +
      'ORDER BY timestamp DESC, id DESC LIMIT $4',
  },
  async run(q, [name, since, until, limit, after]) {
    const rows =
      after === null
        ? await q.all('first', [name, since, until, limit + 1])
        : await q.all('next', [name, since, until, limit + 1, after[0], after[1]]);
    return toPage<RawRow, Metric>(rows, limit, METRICS.decode, (metric) => [metric.timestamp, metric.id]);
  },
});

export const pgMetricOperations = [pgMetricsRecord, pgMetricsQuery];
