import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/sqlite/connection.js';
import { freshDatabase } from './helpers/database.js';

type Row = Record<string, unknown>;

/** Inserts a row given as column → value; returns the rowid. */
function insert(db: Connection, table: string, row: Row): number | bigint {
  const columns = Object.keys(row);
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;
  return db.prepare(sql).run(row).lastInsertRowid;
}

function sqliteCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** A database with one valid parent row of each kind, for children to point at. */
function withParents(): Connection {
  const db = freshDatabase();
  insert(db, 'sessions', { id: 's1', app_name: 'app', user_id: 'alice' });
  insert(db, 'tasks', { id: 't1', prompt: 'p', input_data: '{}' });
  insert(db, 'agents', { id: 'a1', name: 'n', specialization: 'x', task_id: 't1', model: 'm' });
  insert(db, 'memory_entries', { namespace: 'user:alice', key: 'k', value: '1', memory_type: 'semantic' });
  return db;
}

// A valid row per table; each case below breaks one column of it.
const valid: Record<string, () => Row> = {
  sessions: () => ({ id: 's2', app_name: 'app', user_id: 'bob', event_count: 0, state: '{}', metadata: '{}' }),
  session_events: () => ({ session_id: 's1', seq: 1, event_id: 'e1', event: '{"role":"user"}' }),
  memory_entries: () => ({ namespace: 'user:bob', key: 'k', value: '{"a":1}', memory_type: 'episodic', version: 1, is_deleted: 0, metadata: '{}' }),
  document_index: () => ({ file_path: '/d.md', title: 'D', document_type: 'plan', content_hash: 'h', chunk_count: 1, metadata: '{}', sync_status: 'pending' }),
  tasks: () => ({ id: 't2', prompt: 'p', input_data: '{}', status: 'pending', priority: 5, result_data: 'null', dependencies: '[]', retry_count: 0, max_retries: 3, max_execution_timeout_seconds: 10 }),
  agents: () => ({ id: 'a2', name: 'n', specialization: 'x', task_id: 't1', model: 'm', state: 'idle', resource_usage: '{}' }),
  state: () => ({ task_id: 't1', key: 'k2', value: '"v"' }),
  audit: () => ({ action_type: 'test', action_data: '{}', memory_operation_type: 'create' }),
  metrics: () => ({ metric_name: 'latency', metric_value: 0, labels: '{}' }),
  checkpoints: () => ({ task_id: 't1', iteration: 0, state: '{}' }),
};

const checkCases: [table: string, column: string, bad: unknown][] = [
  ['sessions', 'status', 'running'],
  ['sessions', 'event_count', -1],
  ['session_events', 'event', 'not json'],
  ['session_events', 'seq', 0],
  ['session_events', 'event_id', ''],
  ['sessions', 'state', '{"a":'],
  ['sessions', 'state', '[]'],
  ['sessions', 'metadata', 'nope'],
  ['sessions', 'id', ''],
  ['sessions', 'app_name', ''],
  ['sessions', 'user_id', ''],
  ['memory_entries', 'memory_type', 'working'],
  ['memory_entries', 'value', "{'single': 'quotes'}"],
  ['memory_entries', 'metadata', '{'],
  ['memory_entries', 'version', 0],
  ['memory_entries', 'version', -1],
  ['memory_entries', 'is_deleted', 2],
  ['memory_entries', 'namespace', ''],
  ['memory_entries', 'key', ''],
  ['document_index', 'document_type', 'memo'],
  ['document_index', 'sync_status', 'done'],
  ['document_index', 'metadata', 'x'],
  ['document_index', 'chunk_count', -1],
  ['document_index', 'file_path', ''],
  ['document_index', 'content_hash', ''],
  ['tasks', 'status', 'blocked'],
  ['tasks', 'priority', 0],
  ['tasks', 'priority', 11],
  ['tasks', 'input_data', 'nope'],
  ['tasks', 'result_data', '{x}'],
  ['tasks', 'dependencies', 'nope'],
  ['tasks', 'dependencies', '{"a":1}'],
  ['tasks', 'retry_count', -1],
  ['tasks', 'max_retries', -1],
  ['tasks', 'max_execution_timeout_seconds', 0],
  ['tasks', 'id', ''],
  ['agents', 'state', 'sleeping'],
  ['agents', 'resource_usage', '{'],
  ['agents', 'id', ''],
  ['state', 'value', 'bare words'],
  ['state', 'key', ''],
  ['audit', 'memory_operation_type', 'archive'],
  ['audit', 'action_data', '['],
  ['audit', 'action_type', ''],
  ['metrics', 'metric_value', -0.5],
  ['metrics', 'labels', 'x'],
  ['metrics', 'metric_name', ''],
  ['checkpoints', 'state', 'x'],
  ['checkpoints', 'iteration', -1],
];

describe('CHECK constraints', () => {
  it('accept the valid row of every table', () => {
    const db = withParents();
    for (const [table, row] of Object.entries(valid)) expect(() => insert(db, table, row())).not.toThrow();
  });

  it.each(checkCases)('%s.%s rejects %j', (table, column, bad) => {
    const db = withParents();
    const before = db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
    expect(sqliteCode(() => insert(db, table, { ...valid[table]!(), [column]: bad }))).toBe('SQLITE_CONSTRAINT_CHECK');
    expect(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()).toBe(before);
  });

  it('every JSON column rejects invalid JSON', () => {
    const db = withParents();
    const jsonColumns = db
      .prepare(
        "SELECT m.name AS tbl, p.name AS col FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table' " +
          "AND m.name NOT LIKE 'sqlite_%' AND m.sql LIKE '%json_valid(' || p.name || ')%'",
      )
      .all() as { tbl: string; col: string }[];
    const expected = [
      'agents.resource_usage',
      'audit.action_data',
      'checkpoints.state',
      'document_index.metadata',
      'memory_entries.metadata',
      'memory_entries.value',
      'metrics.labels',
      'session_events.event',
      'sessions.metadata',
      'sessions.state',
      'state.value',
      'tasks.dependencies',
      'tasks.input_data',
      'tasks.result_data',
    ];
    expect(jsonColumns.map((c) => `${c.tbl}.${c.col}`).sort()).toEqual(expected);
    for (const { tbl, col } of jsonColumns) {
      expect(sqliteCode(() => insert(db, tbl, { ...valid[tbl]!(), [col]: '{"unterminated": ' }))).toBe(
        'SQLITE_CONSTRAINT_CHECK',
      );
    }
  });

  it('NOT NULL columns reject NULL', () => {
    const db = withParents();
    expect(sqliteCode(() => insert(db, 'sessions', { ...valid.sessions!(), app_name: null }))).toBe(
      'SQLITE_CONSTRAINT_NOTNULL',
    );
    expect(sqliteCode(() => insert(db, 'tasks', { ...valid.tasks!(), input_data: null }))).toBe(
      'SQLITE_CONSTRAINT_NOTNULL',
    );
    expect(sqliteCode(() => insert(db, 'metrics', { ...valid.metrics!(), metric_value: null }))).toBe(
      'SQLITE_CONSTRAINT_NOTNULL',
    );
  });

  it('STRICT tables reject a value of the wrong type', () => {
    const db = withParents();
    expect(sqliteCode(() => insert(db, 'tasks', { ...valid.tasks!(), priority: 'high' }))).toBe(
      'SQLITE_CONSTRAINT_DATATYPE',
    );
  });
});

describe('defaults', () => {
  it('fill status, JSON defaults and millisecond ISO timestamps', () => {
    const db = withParents();
    const session = db.prepare("SELECT * FROM sessions WHERE id = 's1'").get() as Row;
    expect(session).toMatchObject({ status: 'created', event_count: 0, state: '{}', metadata: '{}' });
    insert(db, 'session_events', valid.session_events!());
    const event = db.prepare("SELECT created_at, event_id FROM session_events WHERE session_id = 's1'").get() as Row;
    expect(event.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(session.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const task = db.prepare("SELECT * FROM tasks WHERE id = 't1'").get() as Row;
    expect(task).toMatchObject({ status: 'pending', priority: 5, agent_type: 'general', retry_count: 0, max_retries: 3 });
    expect(task.max_execution_timeout_seconds).toBe(3600);
    const memory = db.prepare('SELECT * FROM memory_entries').get() as Row;
    expect(memory).toMatchObject({ version: 1, is_deleted: 0, metadata: '{}' });
    const agent = db.prepare("SELECT state FROM agents WHERE id = 'a1'").pluck().get();
    expect(agent).toBe('idle');
  });
});

describe('UNIQUE rules', () => {
  const cases: [string, string, () => Row][] = [
    ['sessions', 'SQLITE_CONSTRAINT_PRIMARYKEY', () => ({ id: 's1', app_name: 'x', user_id: 'y' })],
    ['tasks', 'SQLITE_CONSTRAINT_PRIMARYKEY', () => ({ id: 't1', prompt: 'p', input_data: '{}' })],
    ['agents', 'SQLITE_CONSTRAINT_PRIMARYKEY', () => ({ id: 'a1', name: 'n', specialization: 'x', task_id: 't1', model: 'm' })],
    ['memory_entries', 'SQLITE_CONSTRAINT_UNIQUE', () => ({ namespace: 'user:alice', key: 'k', value: '2', memory_type: 'semantic', version: 1 })],
    ['session_events', 'SQLITE_CONSTRAINT_PRIMARYKEY', () => ({ session_id: 's1', seq: 1, event: '2' })],
    ['session_events', 'SQLITE_CONSTRAINT_UNIQUE', () => ({ session_id: 's1', seq: 2, event_id: 'e1', event: '2' })],
  ];

  it.each(cases)('%s rejects a duplicate (%s)', (table, code, row) => {
    const db = withParents();
    insert(db, 'session_events', valid.session_events!());
    expect(sqliteCode(() => insert(db, table, row()))).toBe(code);
  });

  it('session_events: event ids are unique per session, and optional', () => {
    const db = withParents();
    insert(db, 'sessions', valid.sessions!());
    insert(db, 'session_events', valid.session_events!());
    insert(db, 'session_events', { ...valid.session_events!(), session_id: 's2' });
    insert(db, 'session_events', { ...valid.session_events!(), seq: 2, event_id: null });
    insert(db, 'session_events', { ...valid.session_events!(), seq: 3, event_id: null });
    expect(db.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(4);
  });

  it('memory allows the same key at another version', () => {
    const db = withParents();
    insert(db, 'memory_entries', { namespace: 'user:alice', key: 'k', value: '2', memory_type: 'semantic', version: 2 });
    expect(db.prepare('SELECT count(*) FROM memory_entries').pluck().get()).toBe(2);
  });

  it('document_index.file_path, state (task_id, key) and checkpoints (task_id, iteration) are unique', () => {
    const db = withParents();
    insert(db, 'document_index', valid.document_index!());
    expect(sqliteCode(() => insert(db, 'document_index', { ...valid.document_index!(), title: 'other' }))).toBe(
      'SQLITE_CONSTRAINT_UNIQUE',
    );
    insert(db, 'state', valid.state!());
    expect(sqliteCode(() => insert(db, 'state', { ...valid.state!(), value: '2' }))).toBe('SQLITE_CONSTRAINT_UNIQUE');
    insert(db, 'checkpoints', valid.checkpoints!());
    expect(sqliteCode(() => insert(db, 'checkpoints', valid.checkpoints!()))).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
  });
});

describe('foreign keys', () => {
  const cases: [string, string, unknown][] = [
    ['tasks', 'session_id', 'no-such-session'],
    ['tasks', 'parent_task_id', 'no-such-task'],
    ['agents', 'task_id', 'no-such-task'],
    ['agents', 'session_id', 'no-such-session'],
    ['state', 'task_id', 'no-such-task'],
    ['audit', 'agent_id', 'no-such-agent'],
    ['audit', 'task_id', 'no-such-task'],
    ['audit', 'memory_entry_id', 999_999],
    ['checkpoints', 'task_id', 'no-such-task'],
    ['checkpoints', 'session_id', 'no-such-session'],
    ['session_events', 'session_id', 'no-such-session'],
  ];

  it.each(cases)('%s.%s rejects an unknown parent', (table, column, parent) => {
    const db = withParents();
    expect(sqliteCode(() => insert(db, table, { ...valid[table]!(), [column]: parent }))).toBe(
      'SQLITE_CONSTRAINT_FOREIGNKEY',
    );
  });

  it('accept known parents', () => {
    const db = withParents();
    insert(db, 'tasks', { ...valid.tasks!(), session_id: 's1', parent_task_id: 't1' });
    insert(db, 'audit', { ...valid.audit!(), agent_id: 'a1', task_id: 't1', memory_entry_id: 1 });
    expect(db.prepare('SELECT count(*) FROM audit').pluck().get()).toBe(1);
  });

  it('deleting a session deletes its events and sets session_id to NULL in tasks, agents and checkpoints', () => {
    const db = withParents();
    insert(db, 'tasks', { ...valid.tasks!(), session_id: 's1' });
    insert(db, 'agents', { ...valid.agents!(), session_id: 's1' });
    insert(db, 'checkpoints', { ...valid.checkpoints!(), session_id: 's1' });
    insert(db, 'session_events', valid.session_events!());
    db.prepare("DELETE FROM sessions WHERE id = 's1'").run();
    // Its events go with it (ON DELETE CASCADE); the rest only forget it.
    expect(db.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(0);
    expect(db.prepare("SELECT session_id FROM tasks WHERE id = 't2'").pluck().get()).toBeNull();
    expect(db.prepare("SELECT session_id FROM agents WHERE id = 'a2'").pluck().get()).toBeNull();
    expect(db.prepare("SELECT session_id FROM checkpoints WHERE task_id = 't1'").pluck().get()).toBeNull();
    expect(db.prepare('SELECT count(*) FROM tasks').pluck().get()).toBe(2);
  });

  it('deleting a memory entry sets audit.memory_entry_id to NULL', () => {
    const db = withParents();
    const id = insert(db, 'audit', { ...valid.audit!(), memory_entry_id: 1, memory_namespace: 'user:alice' });
    db.prepare('DELETE FROM memory_entries WHERE id = 1').run();
    expect(db.prepare('SELECT memory_entry_id, memory_namespace FROM audit WHERE id = ?').get(id)).toEqual({
      memory_entry_id: null,
      memory_namespace: 'user:alice',
    });
  });

  it('audit.task_id is nullable: operations without a task are audited', () => {
    const db = withParents();
    insert(db, 'audit', { action_type: 'session_create' });
    expect(db.prepare('SELECT task_id FROM audit').pluck().get()).toBeNull();
  });
});
