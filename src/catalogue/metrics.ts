import type { AuditContext, Metric, Page } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, raw } from './operation.js';
import { METRICS } from './tables.js';
import type { RawRow } from './table.js';

export const metricsRecord = defineOperation({
  name: 'metrics.record',
  kind: 'write',
  statements: {
    insert: raw(`INSERT INTO metrics (metric_name, metric_value, labels) VALUES (?, ?, ?) RETURNING ${METRICS.columns}`),
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [name, value, labels, ctx]: readonly [string, number, string | null, AuditContext | undefined],
  ): Metric {
    const row = st.insert.get(name, value, labels) as RawRow;
    writeAudit(st.audit, ctx, { action: 'metric_record', data: { name, value } });
    return METRICS.decode(row);
  },
});

// Newest first within [since, until). Parameters: name, since, until, at and id (the cursor), limit.
export const metricsQuery = defineOperation({
  name: 'metrics.query',
  kind: 'read',
  statements: {
    first: raw(
      `SELECT ${METRICS.columns} FROM metrics WHERE metric_name = @name AND timestamp >= @since AND timestamp < @until ` +
        'ORDER BY timestamp DESC, id DESC LIMIT @limit',
    ),
    next: raw(
      `SELECT ${METRICS.columns} FROM metrics WHERE metric_name = @name AND timestamp >= @since AND timestamp < @until ` +
        'AND timestamp <= @at AND (timestamp < @at OR id < @id) ORDER BY timestamp DESC, id DESC LIMIT @limit',
    ),
  },
  run(
    { st },
    [name, since, until, limit, after]: readonly [string, string | null, string | null, number, readonly [string, number] | null],
  ): Page<Metric> {
    // '' sorts before every timestamp and '~' after: open bounds.
    const params = { name, since: since ?? '', until: until ?? '~', limit: limit + 1 };
    const rows = (after === null
      ? st.first.all(params)
      : st.next.all({ ...params, at: after[0], id: after[1] })) as RawRow[];
    return toPage(rows, limit, METRICS.decode, (metric) => [metric.timestamp, metric.id]);
  },
});

export const metricOperations = [metricsRecord, metricsQuery];
