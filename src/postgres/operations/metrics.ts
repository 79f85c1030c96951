import type { Metric } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import { metricsQuery, metricsRecord } from '../../catalogue/metrics.js';
import { metricFromRow, type RawRow } from '../../catalogue/rows.js';
import { implement } from '../operation.js';
import { METRIC_COLUMNS } from './sql.js';

const ID = 0;
const TIMESTAMP = 1;

export const pgMetricsRecord = implement(metricsRecord, {
  statements: { insert: `INSERT INTO metrics (metric_name, metric_value, labels) VALUES ($1, $2, $3::jsonb) RETURNING ${METRIC_COLUMNS}` },
  async run(q, [name, value, labels, ctx]) {
    const row = (await q.one('insert', [name, value, labels]))!;
    await q.audit(ctx, { action: 'metric_record', data: { name, value } });
    return metricFromRow(row);
  },
});

// Newest first within [since, until); open bounds are ±infinity. Parameters: name, since,
// until, limit, then the cursor (timestamp, id).
const RANGE = "metric_name = $1 AND timestamp >= coalesce($2::timestamptz, '-infinity') AND timestamp < coalesce($3::timestamptz, 'infinity')";

export const pgMetricsQuery = implement(metricsQuery, {
  statements: {
    first: `SELECT ${METRIC_COLUMNS} FROM metrics WHERE ${RANGE} ORDER BY timestamp DESC, id DESC LIMIT $4`,
    next:
      `SELECT ${METRIC_COLUMNS} FROM metrics WHERE ${RANGE} AND (timestamp, id) < ($5::timestamptz, $6::bigint) ` +
      'ORDER BY timestamp DESC, id DESC LIMIT $4',
  },
  async run(q, [name, since, until, limit, after]) {
    const rows =
      after === null
        ? await q.all('first', [name, since, until, limit + 1])
        : await q.all('next', [name, since, until, limit + 1, after[0], after[1]]);
    return toPage<RawRow, Metric>(rows, limit, metricFromRow, (row) => [row[TIMESTAMP] as string, row[ID] as number]);
  },
});

export const pgMetricOperations = [pgMetricsRecord, pgMetricsQuery];
