import type { CheckReport } from '../api/types.js';

// Engine-neutral: both engines' check() return a CheckReport (src/sqlite/check.ts,
// src/postgres/check.ts); this prints either for the command line.

/** The report as people read it: one line per check, failures spelled out. */
export function formatCheckReport(report: CheckReport): string {
  const mark = (ok: boolean): string => (ok ? 'ok  ' : 'FAIL');
  const postgres = report.engine === 'postgres';
  const lines = [`${postgres ? 'PostgreSQL' : 'database'} ${report.path}`];
  const integrityOk = report.integrity.length === 1 && report.integrity[0] === 'ok';
  const integrityLabel = postgres ? 'indexes valid, constraints validated' : 'integrity_check';
  lines.push(`${mark(integrityOk)} ${integrityLabel}: ${integrityOk ? 'ok' : report.integrity.slice(0, 10).join('; ')}`);
  if (!postgres) {
    lines.push(
      `${mark(report.foreignKeyViolations.length === 0)} foreign_key_check: ${
        report.foreignKeyViolations.length === 0 ? 'no violations' : `${report.foreignKeyViolations.length} violations`
      }`,
    );
    for (const v of report.foreignKeyViolations.slice(0, 10)) {
      lines.push(`       ${v.table} rowid ${String(v.rowid)} references a missing ${v.parent} row`);
    }
    lines.push(`${mark(report.journalMode === 'wal')} journal mode: ${report.journalMode}`);
  }
  lines.push(`${mark(report.foreignKeys)} foreign keys: ${report.foreignKeys ? 'on' : 'off'}`);
  const older = report.schemaVersion < report.expectedSchemaVersion ? '; abathur-store migrate upgrades it' : '';
  lines.push(
    `${mark(report.schemaVersion === report.expectedSchemaVersion)} schema version: ${report.schemaVersion} (expected ${report.expectedSchemaVersion}${older})`,
  );
  lines.push(
    `${mark(report.indexesSatisfied === report.indexes.length)} index requirements: ${report.indexesSatisfied} of ${report.indexes.length} satisfied`,
  );
  for (const finding of report.indexes) {
    if (!finding.satisfied) lines.push(`       FAIL ${finding.requirement}: ${finding.problem ?? ''}`);
    else if (finding.servedBy !== finding.requirement) {
      lines.push(`       ${finding.requirement} is served by ${finding.servedBy ?? ''} (not created: it would duplicate it)`);
    }
  }
  if (report.extraIndexes.length > 0) lines.push(`     additional indexes: ${report.extraIndexes.join(', ')}`);
  if (report.plans !== undefined) {
    const bad = report.plans.filter((plan) => !plan.ok);
    const accepted = report.plans.filter((plan) => plan.ok && plan.accepted !== undefined);
    const tieSorts = report.plans.filter((plan) => plan.tieSorts.length > 0).length;
    const notes = [
      ...(accepted.length > 0 ? [`${accepted.length} accepted exceptions`] : []),
      ...(tieSorts > 0 ? [`${tieSorts} order rows tied on a timestamp by id`] : []),
    ];
    lines.push(
      `${mark(bad.length === 0)} statement plans: ${report.plans.length - bad.length} of ${report.plans.length} ${
        postgres ? 'read no large table end to end and sort nothing' : 'use an index without a temp B-tree'
      }${
        notes.length > 0 ? ` (${notes.join('; ')})` : ''
      }`,
    );
    for (const plan of bad) {
      lines.push(`       FAIL ${plan.operation}.${plan.statement}: ${[...plan.scans, ...plan.tempBtrees].join('; ')}`);
    }
    for (const plan of accepted) lines.push(`       ${plan.operation}.${plan.statement}: ${plan.accepted ?? ''}`);
  }
  lines.push(report.ok ? 'result: ok' : 'result: FAILED');
  return lines.join('\n');
}
