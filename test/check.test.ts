import { describe, expect, it } from 'vitest';
import { formatCheckReport } from '../src/diagnostics/check-report.js';
import { checkDatabase, checkIndexes } from '../src/sqlite/check.js';
import { operations } from '../src/catalogue/index.js';
import { freshDatabase } from './helpers/database.js';

const SERVED_BY_OTHERS: Record<string, string> = {
  idx_sessions_pk: 'sqlite_autoindex_sessions_1',
  idx_memory_entries_pk: 'memory_entries rowid (INTEGER PRIMARY KEY id)',
  idx_document_index_pk: 'document_index rowid (INTEGER PRIMARY KEY id)',
  idx_document_file_path: 'sqlite_autoindex_document_index_1',
  idx_memory_conflict_detection: 'idx_memory_namespace_key_version',
  idx_state_task_key: 'sqlite_autoindex_state_1',
};

describe('check', () => {
  it('passes a fresh database: 33 of 33, each duplicate reported with what serves it', () => {
    const db = freshDatabase();
    const report = checkDatabase(db, { operations });
    expect(report.ok).toBe(true);
    expect(report.integrity).toEqual(['ok']);
    expect(report.foreignKeyViolations).toEqual([]);
    expect(report.journalMode).toBe('wal');
    expect(report.foreignKeys).toBe(true);
    expect(report.indexesSatisfied).toBe(33);
    const servedByOthers = Object.fromEntries(
      report.indexes.filter((f) => f.servedBy !== f.requirement).map((f) => [f.requirement, f.servedBy]),
    );
    expect(servedByOthers).toEqual(SERVED_BY_OTHERS);
    expect(report.extraIndexes).toEqual([
      'idx_adk_sessions_app_updated',
      'idx_adk_sessions_user_updated',
      'idx_checkpoints_session',
      'idx_session_events_event_id',
      'lg_checkpoints_newest',
      'lg_checkpoints_thread_newest',
      'lg_store_expiry',
    ]);
    expect(report.plans?.every((plan) => plan.ok)).toBe(true);
    const text = formatCheckReport(report);
    expect(text).toContain('33 of 33 satisfied');
    expect(text).toContain('idx_memory_conflict_detection is served by idx_memory_namespace_key_version');
    expect(text).toMatch(/result: ok$/);
  });

  it('fails, naming the index, when one is dropped', () => {
    const db = freshDatabase();
    db.exec('DROP INDEX idx_audit_task');
    const report = checkDatabase(db);
    expect(report.ok).toBe(false);
    expect(report.indexesSatisfied).toBe(32);
    const finding = report.indexes.find((f) => !f.satisfied);
    expect(finding).toMatchObject({ requirement: 'idx_audit_task', problem: 'missing: no index on audit (task_id, timestamp DESC)' });
    expect(formatCheckReport(report)).toContain('FAIL idx_audit_task: missing');
  });

  it('fails when an index is altered: columns, order, filter or collation', () => {
    const db = freshDatabase();
    db.exec('DROP INDEX idx_sessions_user_created; CREATE INDEX idx_sessions_user_created ON sessions (user_id, created_at)');
    db.exec('DROP INDEX idx_tasks_session; CREATE INDEX idx_tasks_session ON tasks (session_id, submitted_at DESC)');
    db.exec('DROP INDEX idx_agents_state; CREATE INDEX idx_agents_state ON agents (state COLLATE NOCASE)');
    db.exec('DROP INDEX idx_tasks_parent; CREATE INDEX idx_tasks_parent ON tasks (parent_task_id, id)');
    const problems = Object.fromEntries(checkIndexes(db).filter((f) => !f.satisfied).map((f) => [f.requirement, f.problem]));
    expect(problems).toEqual({
      idx_sessions_user_created:
        'idx_sessions_user_created is on (user_id, created_at) but must be on (user_id, created_at DESC)',
      idx_tasks_session: 'idx_tasks_session has no filter but must have WHERE session_id IS NOT NULL',
      idx_agents_state: 'idx_agents_state must use binary collation',
      idx_tasks_parent: 'idx_tasks_parent is on (parent_task_id, id) but must be on (parent_task_id)',
    });
  });

  it('accepts an index under another name, or scanned the other way round', () => {
    const db = freshDatabase();
    db.exec('DROP INDEX idx_metrics_name_timestamp; CREATE INDEX metrics_by_name ON metrics (metric_name DESC, timestamp ASC)');
    const finding = checkIndexes(db).find((f) => f.requirement === 'idx_metrics_name_timestamp');
    expect(finding).toMatchObject({ satisfied: true, servedBy: 'metrics_by_name' });
  });

  it('requires uniqueness where the requirement is unique', () => {
    const db = freshDatabase();
    db.exec(
      'DROP TABLE document_index; ' +
        'CREATE TABLE document_index (id INTEGER, file_path TEXT); CREATE INDEX idx_document_file_path ON document_index (file_path)',
    );
    const finding = checkIndexes(db).find((f) => f.requirement === 'idx_document_file_path');
    expect(finding).toMatchObject({ satisfied: false, problem: 'idx_document_file_path must be UNIQUE' });
    expect(checkIndexes(db).find((f) => f.requirement === 'idx_document_index_pk')?.satisfied).toBe(false);
  });

  it('reports foreign-key violations, a non-WAL journal and foreign keys off', () => {
    const db = freshDatabase();
    db.pragma('foreign_keys = OFF');
    db.prepare("INSERT INTO tasks (id, prompt, input_data, session_id) VALUES ('t', 'p', '{}', 'ghost')").run();
    db.pragma('journal_mode = DELETE');
    const report = checkDatabase(db);
    expect(report.ok).toBe(false);
    expect(report.foreignKeys).toBe(false);
    expect(report.journalMode).toBe('delete');
    expect(report.foreignKeyViolations).toEqual([{ table: 'tasks', rowid: 1, parent: 'sessions', fkid: 0 }]);
    const text = formatCheckReport(report);
    expect(text).toContain('FAIL foreign_key_check: 1 violations');
    expect(text).toContain('tasks rowid 1 references a missing sessions row');
    expect(text).toContain('FAIL journal mode: delete');
    expect(text).toContain('FAIL foreign keys: off');
    expect(text).toMatch(/result: FAILED$/);
  });
});
