import type { Pool, PoolClient } from 'pg';
import { StoreError } from '../api/errors.js';
import type { ResolvedPostgresOptions } from '../api/options.js';
import { openReaderConnection, type Connection } from '../sqlite/connection.js';
import { SCHEMA_VERSION } from '../sqlite/schema.js';
import { checkCopiedTable, sqliteOrder } from './copy-check.js';
import { COPY_TABLES, type ColumnType, type CopyTable } from './copy-tables.js';
import { createPool } from '../postgres/engine.js';
import { memoryDocument, memoryValueText, searchText } from '../postgres/memory-text.js';
import { migrate } from '../postgres/schema.js';

/** The type a column is read as from the JSON batch, and the expression that stores it. */
function target(column: string, type: ColumnType): { declared: string; value: string } {
  const x = `x.${column}`;
  switch (type) {
    case 'json':
      return { declared: 'text', value: `${x}::jsonb` };
    case 'jsonText':
      return { declared: 'text', value: `${x}::json` };
    case 'scalar':
      return { declared: 'jsonb', value: x };
    case 'floats':
      return { declared: 'real[]', value: x };
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

/**
 * ADK memory's keyword index. On SQLite an FTS5 table that keeps no text; here rebuilt
 * from the memory entries its rows name, with the words of each as the adapter indexes them.
 */
const MEMORY_INDEX = 'adk_memory_fts';

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
 * Copies a SQLite store into an empty PostgreSQL one, the framework adapters' tables
 * included: the schema is applied there first, then every table in dependency order, in
 * batches, in one PostgreSQL transaction (a failure leaves the target as it was) from one
 * SQLite read transaction (a consistent snapshot, even while the source is in use). Each
 * table is read back on both sides and compared row for row before the commit (a value
 * that did not arrive as it left rolls the copy back, INVALID_STATE). Identity sequences
 * continue after the copied ids. Ends with each table counted on both sides.
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
    pool = await createPool(options.to);
    const client = await pool.connect();
    try {
      await migrate(client, options.to.schema);
      await client.query('BEGIN');
      try {
        await refuseNonEmpty(client, options.to);
        source.exec('BEGIN');
        try {
          const batchRows = options.batchRows ?? BATCH_ROWS;
          for (const table of COPY_TABLES) {
            await copyTable(source, client, table, batchRows, options.onProgress);
            await checkCopiedTable(source, client, table);
          }
          await copyMemoryIndex(source, client, batchRows, options.onProgress);
        } finally {
          source.exec('COMMIT');
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
      const counts: TableCount[] = [];
      for (const table of [...COPY_TABLES.map((t) => t.name), MEMORY_INDEX]) {
        const sqlite = source.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
        counts.push({ table, sqlite, postgres: rows[0]!.n });
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
  for (const table of [...COPY_TABLES.map((t) => t.name), MEMORY_INDEX]) {
    const { rows } = await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
    if (rows.length > 0) filled.push(table);
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
  const select = source.prepare(`SELECT ${table.columns.map(([name]) => name).join(', ')} FROM ${table.name} ORDER BY ${sqliteOrder(table)}`);
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
      const value = row[name];
      if (value == null) continue;
      if (type === 'bytes') row[name] = (value as Buffer).toString('hex');
      else if (type === 'floats') row[name] = Array.from(new Float32Array(new Uint8Array(value as Buffer).buffer));
      if ((type === 'json' || type === 'jsonText' || type === 'bytes') && typeof row[name] === 'string') bytes += row[name].length;
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

/** Rebuilds ADK memory's keyword index for the entries SQLite's index holds, then checks it names the same entries. */
async function copyMemoryIndex(
  source: Connection,
  client: PoolClient,
  batchRows: number,
  onProgress: ((progress: CopyProgress) => void) | undefined,
): Promise<void> {
  const total = source.prepare(`SELECT count(*) FROM ${MEMORY_INDEX}`).pluck().get() as number;
  onProgress?.({ table: MEMORY_INDEX, copied: 0, total });
  const insert =
    `INSERT INTO ${MEMORY_INDEX} (entry_id, document) SELECT x.entry_id, ${memoryDocument('x.namespace', 'x.text')} ` +
    'FROM jsonb_to_recordset($1::jsonb) AS x (entry_id bigint, namespace text, text text)';
  const rows = source.prepare(
    `SELECT f.rowid, m.namespace, m.value FROM ${MEMORY_INDEX} AS f JOIN memory_entries AS m ON m.id = f.rowid ORDER BY f.rowid`,
  );
  let batch: { entry_id: number; namespace: string; text: string }[] = [];
  let copied = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await client.query(insert, [JSON.stringify(batch)]);
    copied += batch.length;
    batch = [];
    onProgress?.({ table: MEMORY_INDEX, copied, total });
  };
  for (const [entryId, namespace, value] of rows.raw().iterate() as Iterable<[number, string, string]>) {
    batch.push({ entry_id: entryId, namespace, text: searchText(memoryValueText(JSON.parse(value))) });
    if (batch.length >= batchRows) await flush();
  }
  await flush();
  const sqlite = source.prepare(`SELECT rowid FROM ${MEMORY_INDEX} ORDER BY rowid`).pluck().all() as number[];
  const { rows: indexed } = await client.query<{ id: number }>(`SELECT entry_id AS id FROM ${MEMORY_INDEX} ORDER BY entry_id`);
  const postgres = indexed.map((row) => row.id);
  if (sqlite.length !== postgres.length || sqlite.some((id, i) => postgres[i] !== id)) {
    throw new StoreError(
      'INVALID_STATE',
      `${MEMORY_INDEX}: SQLite indexes ${sqlite.length} memory entries and PostgreSQL ${postgres.length} after the copy (an entry the index names is missing from memory_entries?): nothing was copied`,
    );
  }
}
