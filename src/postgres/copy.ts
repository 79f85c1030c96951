import type { Pool, PoolClient } from 'pg';
import { StoreError } from '../api/errors.js';
import type { ResolvedPostgresOptions } from '../api/options.js';
import { openReaderConnection, type Connection } from '../sqlite/connection.js';
import { SCHEMA_VERSION } from '../sqlite/schema.js';
import { createPool } from './engine.js';
import { migrate } from './schema.js';

/** How a column is carried from SQLite to PostgreSQL. */
type ColumnType = 'text' | 'integer' | 'bigint' | 'float' | 'timestamp' | 'json' | 'boolean' | 'bytes';

interface CopyTable {
  name: string;
  /** [column, type]; `rowid` is SQLite's rowid, kept as the PostgreSQL table's rowid column. */
  columns: readonly (readonly [string, ColumnType])[];
  /** The SQLite key the rows are read in (a keyset, so the read is one pass of an index). */
  order: string;
  /** Identity columns whose sequences must continue after the copied values. */
  identity: readonly string[];
}

const C = (spec: string): (readonly [string, ColumnType])[] =>
  spec.split(',').map((part) => {
    const [name, type] = part.trim().split(':') as [string, ColumnType | undefined];
    return [name, type ?? 'text'] as const;
  });

/**
 * The framework adapters' tables (SQLite migrations 003 and 004), which the PostgreSQL
 * engine does not have: a file with rows in any of them is refused, not copied in part.
 */
const ADAPTER_TABLES = ['lg_checkpoints', 'lg_checkpoint_blobs', 'lg_checkpoint_writes', 'lg_store', 'lg_store_vectors', 'adk_sessions', 'adk_app_states', 'adk_user_states'];

/**
 * Every table of the store's schema, in an order where each row's parents are copied
 * before it: sessions before their events (and their trimmed events' ids), tasks in rowid order (a parent task is always
 * older than its subtasks), audit after the agents, tasks and memory it names.
 */
export const COPY_TABLES: readonly CopyTable[] = [
  {
    name: 'sessions',
    columns: C(
      'rowid:bigint, id, app_name, user_id, project_id, status, event_count:integer, state:json, metadata:json, created_at:timestamp, ' +
        'last_update_time:timestamp, terminated_at:timestamp, archived_at:timestamp',
    ),
    order: 'rowid',
    identity: ['rowid'],
  },
  {
    name: 'session_events',
    columns: C('session_id, seq:integer, event_id, event:json, created_at:timestamp'),
    order: 'session_id, seq',
    identity: [],
  },
  {
    name: 'session_trimmed_event_ids',
    columns: C('session_id, event_id, seq:integer'),
    order: 'session_id, event_id',
    identity: [],
  },
  {
    name: 'memory_entries',
    columns: C(
      'id:bigint, namespace, key, value:json, memory_type, version:integer, is_deleted:boolean, metadata:json, created_by, updated_by, ' +
        'created_at:timestamp, updated_at:timestamp',
    ),
    order: 'id',
    identity: ['id'],
  },
  {
    name: 'document_index',
    columns: C(
      'id:bigint, file_path, title, document_type, content_hash, chunk_count:integer, embedding_model, embedding_blob:bytes, metadata:json, ' +
        'last_synced_at:timestamp, sync_status, created_at:timestamp, updated_at:timestamp',
    ),
    order: 'id',
    identity: ['id'],
  },
  {
    name: 'tasks',
    columns: C(
      'rowid:bigint, id, prompt, agent_type, priority:integer, status, input_data:json, result_data:json, error_message, retry_count:integer, ' +
        'max_retries:integer, max_execution_timeout_seconds:integer, submitted_at:timestamp, started_at:timestamp, completed_at:timestamp, ' +
        'last_updated_at:timestamp, created_by, parent_task_id, dependencies:json, session_id',
    ),
    order: 'rowid',
    identity: ['rowid'],
  },
  {
    name: 'agents',
    columns: C(
      'rowid:bigint, id, name, specialization, task_id, state, model, spawned_at:timestamp, terminated_at:timestamp, resource_usage:json, session_id',
    ),
    order: 'rowid',
    identity: ['rowid'],
  },
  {
    name: 'state',
    columns: C('id:bigint, task_id, key, value:json, created_at:timestamp, updated_at:timestamp'),
    order: 'id',
    identity: ['id'],
  },
  {
    name: 'audit',
    columns: C(
      'id:bigint, timestamp:timestamp, agent_id, task_id, action_type, action_data:json, result, memory_operation_type, memory_namespace, ' +
        'memory_entry_id:bigint',
    ),
    order: 'id',
    identity: ['id'],
  },
  {
    name: 'metrics',
    columns: C('id:bigint, timestamp:timestamp, metric_name, metric_value:float, labels:json'),
    order: 'id',
    identity: ['id'],
  },
  {
    name: 'checkpoints',
    columns: C('task_id, iteration:integer, state:json, created_at:timestamp, session_id'),
    order: 'task_id, iteration',
    identity: [],
  },
];

/** The type a column is read as from the JSON batch, and the expression that stores it. */
function target(column: string, type: ColumnType): { declared: string; value: string } {
  const x = `x.${column}`;
  switch (type) {
    case 'json':
      return { declared: 'text', value: `${x}::jsonb` };
    case 'timestamp':
      return { declared: 'text', value: `${x}::timestamptz` };
    case 'boolean':
      return { declared: 'integer', value: `${x} <> 0` };
    case 'bytes':
      return { declared: 'text', value: `decode(${x}, 'hex')` };
    case 'float':
      return { declared: 'double precision', value: x };
    default:
      return { declared: type, value: x };
  }
}

/** One batch as a statement: the rows travel as one JSON array and are unpacked by the server. */
function insertStatement(table: CopyTable): string {
  const columns = table.columns.map(([name]) => name);
  const parts = table.columns.map(([name, type]) => target(name, type));
  return (
    `INSERT INTO ${table.name} (${columns.join(', ')}) SELECT ${parts.map((p) => p.value).join(', ')} ` +
    `FROM jsonb_to_recordset($1::jsonb) AS x(${table.columns.map(([name], i) => `${name} ${parts[i]!.declared}`).join(', ')})`
  );
}

export interface TableCount {
  table: string;
  sqlite: number;
  postgres: number;
}

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface CopyReport {
  counts: TableCount[];
  /** True when every table holds as many rows on both sides. */
  ok: boolean;
  ms: number;
}

/** Rows per batch, and the most JSON text one batch carries. */
const BATCH_ROWS = 1000;
const BATCH_BYTES = 8 << 20;

/**
 * Copies a SQLite store into an empty PostgreSQL one: the schema is applied there first,
 * then every table in dependency order, in batches, in one PostgreSQL transaction (a
 * failure leaves the target as it was) from one SQLite read transaction (a consistent
 * snapshot, even while the source is in use). Identity sequences continue after the
 * copied ids. Ends with each table counted on both sides.
 */
export async function copySqliteToPostgres(options: {
  from: string;
  to: ResolvedPostgresOptions;
  batchRows?: number;
  onProgress?: (progress: CopyProgress) => void;
}): Promise<CopyReport> {
  const started = performance.now();
  const source = openReaderConnection(options.from, 5000);
  let pool: Pool | undefined;
  try {
    const version = source.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      throw new StoreError(
        'INVALID_STATE',
        `${options.from} is at schema version ${version}, not this library's ${SCHEMA_VERSION}: run \`abathur-store migrate ${options.from}\` first`,
      );
    }
    const adapterData = ADAPTER_TABLES.filter((table) => source.prepare(`SELECT 1 FROM ${table} LIMIT 1`).get() !== undefined);
    if (adapterData.length > 0) {
      throw new StoreError(
        'INVALID_STATE',
        `${options.from} holds LangGraph or ADK data (${adapterData.join(', ')}), which the PostgreSQL engine does not store: nothing was copied`,
      );
    }
    pool = await createPool(options.to);
    const client = await pool.connect();
    try {
      await migrate(client, options.to.schema);
      await client.query('BEGIN');
      try {
        await refuseNonEmpty(client, options.to);
        source.exec('BEGIN');
        try {
          for (const table of COPY_TABLES) await copyTable(source, client, table, options.batchRows ?? BATCH_ROWS, options.onProgress);
        } finally {
          source.exec('COMMIT');
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
      const counts: TableCount[] = [];
      for (const table of COPY_TABLES) {
        const sqlite = source.prepare(`SELECT count(*) FROM ${table.name}`).pluck().get() as number;
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table.name}`);
        counts.push({ table: table.name, sqlite, postgres: rows[0]!.n });
      }
      return { counts, ok: counts.every((c) => c.sqlite === c.postgres), ms: performance.now() - started };
    } finally {
      client.release();
    }
  } finally {
    source.close();
    await pool?.end();
  }
}

async function refuseNonEmpty(client: PoolClient, to: ResolvedPostgresOptions): Promise<void> {
  const filled: string[] = [];
  for (const table of COPY_TABLES) {
    const { rows } = await client.query(`SELECT 1 FROM ${table.name} LIMIT 1`);
    if (rows.length > 0) filled.push(table.name);
  }
  if (filled.length > 0) {
    throw new StoreError(
      'INVALID_STATE',
      `the target schema "${to.schema}" at ${to.location} already holds rows (${filled.join(', ')}); copy into an empty one`,
    );
  }
}

async function copyTable(
  source: Connection,
  client: PoolClient,
  table: CopyTable,
  batchRows: number,
  onProgress: ((progress: CopyProgress) => void) | undefined,
): Promise<void> {
  const total = source.prepare(`SELECT count(*) FROM ${table.name}`).pluck().get() as number;
  onProgress?.({ table: table.name, copied: 0, total });
  if (total === 0) return;
  const select = source.prepare(`SELECT ${table.columns.map(([name]) => name).join(', ')} FROM ${table.name} ORDER BY ${table.order}`);
  const insert = insertStatement(table);
  let batch: Record<string, unknown>[] = [];
  let bytes = 0;
  let copied = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    try {
      await client.query(insert, [JSON.stringify(batch)]);
    } catch (error) {
      throw new StoreError(
        'INVALID_ARGUMENT',
        `${table.name}: PostgreSQL refused a batch of ${batch.length} rows after ${copied} copied: ${(error as Error).message}`,
        { cause: error, ...(typeof (error as { code?: unknown }).code === 'string' ? { pgCode: (error as { code: string }).code } : {}) },
      );
    }
    copied += batch.length;
    batch = [];
    bytes = 0;
    onProgress?.({ table: table.name, copied, total });
  };
  // The rows are read one at a time and sent in batches; the iterator stays open across
  // the awaits, inside the source's read transaction.
  for (const row of select.iterate() as Iterable<Record<string, unknown>>) {
    for (const [name, type] of table.columns) {
      if (type === 'bytes' && row[name] != null) row[name] = (row[name] as Buffer).toString('hex');
      if (type === 'json' && typeof row[name] === 'string') bytes += row[name].length;
    }
    batch.push(row);
    if (batch.length >= batchRows || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  for (const column of table.identity) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(${column}) FROM ${table.name}), 0) + 1, false)`,
      [table.name, column],
    );
  }
}
