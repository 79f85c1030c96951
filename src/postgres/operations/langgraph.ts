import { defineTable, type RawRow } from '../../catalogue/table.js';
import { LG_CHECKPOINTS } from '../../catalogue/adapter-tables.js';
import {
  LIST_SCAN_LIMIT,
  lgCheckpointGet,
  lgCheckpointList,
  lgCheckpointPut,
  lgThreadDelete,
  lgWritesPut,
  type CheckpointQuery,
  type ListCursor,
  type StoredCheckpoint,
  type Typed,
  type WritesToPut,
} from '../../catalogue/langgraph.js';
import { implement } from '../operation.js';
import { pgLangGraphStoreOperations } from './langgraph-store.js';

// The LangGraph.js checkpointer on PostgreSQL (sql/postgres/003_langgraph.sql), with the
// semantics of src/catalogue/langgraph.ts. A read is one statement: the checkpoint row and,
// aggregated beside it, its channel values, its pending writes and (format < 4) its
// parent's pending sends, so a get or a list page is one round trip.

/** The pending-write channel whose writes are the sends of checkpoints older than format 4. */
const TASKS = '__pregel_tasks';

/**
 * The columns a read returns after the checkpoint's own (LG_CHECKPOINTS.columns): three
 * aggregates, each parallel arrays in one order. NULL arrays when there is nothing.
 *   values: channel[], type[], value[] of the channels with a value at their version;
 *   writes: task_id[], channel[], type[], value[] in (task path, task id, index) order;
 *   sends:  type[], value[] of the parent's sends, for a checkpoint of format < 4.
 */
const AGGREGATES =
  'vals.channels, vals.types, vals.values, wr.task_ids, wr.channels, wr.types, wr.values, sn.types, sn.values';

/** The aggregates of the checkpoint row `c`, computed only where `when` holds. */
function aggregates(c: string, when: string): string {
  // A channel_versions that is not an object holds no channel (as Object.entries of it).
  const versions = `CASE WHEN jsonb_typeof(${c}.channel_versions) = 'object' THEN ${c}.channel_versions ELSE '{}' END`;
  const writesOf = (id: string, also: string): string =>
    `FROM lg_checkpoint_writes AS w WHERE ${when} AND w.thread_id = ${c}.thread_id AND w.checkpoint_ns = ${c}.checkpoint_ns ` +
    `AND w.checkpoint_id = ${id}${also}`;
  const byPath = 'w.task_path, w.task_id, w.idx';
  return (
    'LEFT JOIN LATERAL (SELECT array_agg(b.channel ORDER BY b.channel) AS channels, array_agg(b.type ORDER BY b.channel) AS types, ' +
    'array_agg(b.value ORDER BY b.channel) AS values ' +
    `FROM jsonb_each(${versions}) AS cv (channel, version) JOIN lg_checkpoint_blobs AS b ON b.thread_id = ${c}.thread_id ` +
    `AND b.checkpoint_ns = ${c}.checkpoint_ns AND b.channel = cv.channel AND b.version = cv.version WHERE ${when} AND b.type <> 'empty') AS vals ON true ` +
    `LEFT JOIN LATERAL (SELECT array_agg(w.task_id ORDER BY ${byPath}) AS task_ids, array_agg(w.channel ORDER BY ${byPath}) AS channels, ` +
    `array_agg(w.type ORDER BY ${byPath}) AS types, array_agg(w.value ORDER BY ${byPath}) AS values ` +
    `${writesOf(`${c}.checkpoint_id`, '')}) AS wr ON true ` +
    `LEFT JOIN LATERAL (SELECT array_agg(w.type ORDER BY ${byPath}) AS types, array_agg(w.value ORDER BY ${byPath}) AS values ` +
    `${writesOf(`${c}.parent_checkpoint_id`, ` AND w.channel = '${TASKS}' AND ${c}.v < 4`)}) AS sn ON true`
  );
}

/** Bytes from an aggregate as a plain Uint8Array, as the table declaration's `bytes` columns decode. */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/** A read's row as the adapter takes it: the checkpoint's columns, then from `first` on the aggregates. */
function storedCheckpoint(row: RawRow, first: number): StoredCheckpoint {
  const c = LG_CHECKPOINTS.decode(row);
  const at = <T>(i: number): T[] => (LG_CHECKPOINTS.after(row, first + i) as T[] | null) ?? [];
  const valueChannels = at<string>(0);
  const valueTypes = at<string>(1);
  const valueBytes = at<Uint8Array>(2);
  const writeTasks = at<string>(3);
  const writeChannels = at<string>(4);
  const writeTypes = at<string>(5);
  const writeBytes = at<Uint8Array>(6);
  const sendTypes = at<string>(7);
  const sendBytes = at<Uint8Array>(8);
  return {
    threadId: c.threadId,
    ns: c.checkpointNs,
    id: c.checkpointId,
    parentId: c.parentCheckpointId,
    checkpoint: [c.checkpointType, c.checkpoint],
    metadata: [c.metadataType, c.metadata],
    values: valueChannels.map((channel, i) => [channel, valueTypes[i]!, plain(valueBytes[i]!)]),
    writes: writeTasks.map((taskId, i) => [taskId, writeChannels[i]!, writeTypes[i]!, plain(writeBytes[i]!)]),
    sends: c.v < 4 && c.parentCheckpointId !== null ? sendTypes.map((type, i): Typed => [type, plain(sendBytes[i]!)]) : null,
  };
}

const READ = `SELECT ${LG_CHECKPOINTS.qualified('c')}, ${AGGREGATES} FROM lg_checkpoints AS c ${aggregates('c', 'true')}`;

export const pgLgCheckpointGet = implement(lgCheckpointGet, {
  statements: {
    latest: `${READ} WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 ORDER BY c.checkpoint_id DESC LIMIT 1`,
    one: `${READ} WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = $3`,
  },
  async run(q, [threadId, ns, id]) {
    const row = id === null ? await q.one('latest', [threadId, ns]) : await q.one('one', [threadId, ns, id]);
    return row === undefined ? undefined : storedCheckpoint(row, 0);
  },
});

// list(): newest first, keyset-paged, in the three shapes of the SQLite engine (a thread
// and a namespace, a thread, neither), each ordered by its index. One statement examines
// at most LIST_SCAN_LIMIT rows, as the SQLite engine does, and returns the examined rows
// that are kept (the namespace, the checkpoint id and the metadata filter hold), plus the
// rows at the end of the examined window, which say where the next page starts; values
// and writes are aggregated for the kept rows alone.

interface ListShape {
  /** The range, its parameters from $1. */
  where: string;
  order: string;
  /** Parameters the range takes. */
  params: number;
  /** Whether rows are tested against the query's namespace (the shape does not fix it). */
  filtersNs: boolean;
}

function listStatement(shape: ListShape): string {
  let n = shape.params;
  const param = (): string => `$${++n}`;
  const ns = shape.filtersNs ? `(${param()}::text IS NULL OR c.checkpoint_ns = $${n}) AND ` : '';
  const id = `(${param()}::text IS NULL OR c.checkpoint_id = $${n})`;
  // Every filter key holds a value whose JSON text is the filter's (metadata_json is json:
  // `->` gives a value's text as written).
  const keys = param();
  const jsons = param();
  const filter =
    `NOT EXISTS (SELECT 1 FROM unnest(${keys}::text[], ${jsons}::text[]) AS f (key, json) ` +
    'WHERE (c.metadata_json -> f.key)::text IS DISTINCT FROM f.json)';
  const window = param();
  const scanLimit = param();
  const limit = param();
  const order = (alias: string): string => shape.order.replaceAll('c.', `${alias}.`);
  return (
    `SELECT ${LG_CHECKPOINTS.qualified('e')}, e.kept, e.n, ${AGGREGATES} FROM (` +
    `SELECT c.*, ${ns}${id} AND ${filter} AS kept, row_number() OVER (ORDER BY ${shape.order}) AS n ` +
    `FROM lg_checkpoints AS c WHERE ${shape.where} ORDER BY ${shape.order} LIMIT ${window}) AS e ` +
    `${aggregates('e', 'e.kept')} WHERE e.kept OR e.n >= ${scanLimit} ORDER BY ${order('e')} LIMIT ${limit}`
  );
}

const BY_NS = 'c.checkpoint_id DESC';
const BY_THREAD = 'c.checkpoint_id DESC, c.checkpoint_ns DESC';
const ALL = 'c.checkpoint_id DESC, c.thread_id DESC, c.checkpoint_ns DESC';

export const pgLgCheckpointList = implement(lgCheckpointList, {
  statements: {
    nsFirst: listStatement({ where: 'c.thread_id = $1 AND c.checkpoint_ns = $2', order: BY_NS, params: 2, filtersNs: false }),
    nsNext: listStatement({
      where: 'c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id < $3',
      order: BY_NS,
      params: 3,
      filtersNs: false,
    }),
    threadFirst: listStatement({ where: 'c.thread_id = $1', order: BY_THREAD, params: 1, filtersNs: false }),
    threadNext: listStatement({
      where: 'c.thread_id = $1 AND (c.checkpoint_id, c.checkpoint_ns) < ($2, $3)',
      order: BY_THREAD,
      params: 3,
      filtersNs: false,
    }),
    allFirst: listStatement({ where: 'true', order: ALL, params: 0, filtersNs: true }),
    allNext: listStatement({
      where: '(c.checkpoint_id, c.thread_id, c.checkpoint_ns) < ($1, $2, $3)',
      order: ALL,
      params: 3,
      filtersNs: true,
    }),
  },
  async run(q, [query]: readonly [CheckpointQuery]) {
    const { threadId, ns, checkpointId, filter, limit, after } = query;
    // `before` is an exclusive bound on the id alone: ('', '') sorts below every thread
    // and namespace, so the cursor (before, '', '') excludes exactly the ids from `before` up.
    const start: ListCursor | null = after ?? (query.before === null ? null : [query.before, '', '']);
    // A page of `limit` kept rows, and one row more to tell whether anything follows it.
    const tail = [checkpointId, filter.map(([key]) => key), filter.map(([, json]) => json), LIST_SCAN_LIMIT + 1, LIST_SCAN_LIMIT, Math.ceil(limit) + 1];
    let rows: RawRow[];
    if (threadId !== null && ns !== null) {
      rows = start === null ? await q.all('nsFirst', [threadId, ns, ...tail]) : await q.all('nsNext', [threadId, ns, start[0], ...tail]);
    } else if (threadId !== null) {
      rows = start === null ? await q.all('threadFirst', [threadId, ...tail]) : await q.all('threadNext', [threadId, start[0], start[2], ...tail]);
    } else {
      rows = start === null ? await q.all('allFirst', [ns, ...tail]) : await q.all('allNext', [start[0], start[1], start[2], ns, ...tail]);
    }
    // Each row: the checkpoint's columns, whether it is kept, its position among the rows
    // examined, then its aggregates.
    const kept: StoredCheckpoint[] = [];
    let last: RawRow | undefined;
    let exhausted = true;
    for (const row of rows) {
      if (kept.length >= limit || (LG_CHECKPOINTS.after(row, 1) as number) > LIST_SCAN_LIMIT) {
        exhausted = false;
        break;
      }
      last = row;
      if (LG_CHECKPOINTS.after(row, 0) === true) kept.push(storedCheckpoint(row, 2));
    }
    const cursor = last === undefined ? undefined : LG_CHECKPOINTS.decode(last);
    const next: ListCursor | null = exhausted || cursor === undefined ? null : [cursor.checkpointId, cursor.threadId, cursor.checkpointNs];
    return { checkpoints: kept, next };
  },
});

export const pgLgCheckpointPut = implement(lgCheckpointPut, {
  statements: {
    // The changed channels' values, then the checkpoint. A (channel, version) stored
    // already keeps its value: versions never repeat with another value (the adapter's
    // versions are unique per fork), so this is a re-send.
    put:
      'WITH blobs AS (INSERT INTO lg_checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, value) ' +
      'SELECT $1, $2, x.channel, x.version::jsonb, x.type, x.value ' +
      'FROM unnest($12::text[], $13::text[], $14::text[], $15::bytea[]) AS x (channel, version, type, value) ON CONFLICT DO NOTHING) ' +
      'INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, v, checkpoint_type, checkpoint, ' +
      'channel_versions, metadata_type, metadata, metadata_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11::json) ' +
      'ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET parent_checkpoint_id = excluded.parent_checkpoint_id, ' +
      'v = excluded.v, checkpoint_type = excluded.checkpoint_type, checkpoint = excluded.checkpoint, ' +
      'channel_versions = excluded.channel_versions, metadata_type = excluded.metadata_type, metadata = excluded.metadata, ' +
      'metadata_json = excluded.metadata_json',
  },
  async run(q, [cp]) {
    await q.all('put', [
      cp.threadId,
      cp.ns,
      cp.id,
      cp.parentId,
      cp.v,
      cp.checkpoint[0],
      cp.checkpoint[1],
      cp.channelVersions,
      cp.metadata[0],
      cp.metadata[1],
      cp.metadataJson,
      cp.blobs.map(([channel]) => channel),
      // The version as JSON: a number stays a number, a string a string.
      cp.blobs.map(([, version]) => JSON.stringify(version)),
      cp.blobs.map(([, , type]) => type),
      // node-postgres sends any typed array in an array as bytea.
      cp.blobs.map(([, , , bytes]) => bytes),
    ]);
    await q.audit(undefined, {
      action: 'langgraph_checkpoint_put',
      data: { threadId: cp.threadId, checkpointNs: cp.ns, checkpointId: cp.id, channels: cp.blobs.length },
    });
  },
});

const WRITES_INSERT =
  'INSERT INTO lg_checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value, task_path) ' +
  'SELECT $1, $2, $3, $4, x.idx, x.channel, x.type, x.value, $5 ' +
  'FROM unnest($6::integer[], $7::text[], $8::text[], $9::bytea[]) AS x (idx, channel, type, value)';

export const pgLgWritesPut = implement(lgWritesPut, {
  statements: {
    keep: `${WRITES_INSERT} ON CONFLICT DO NOTHING`,
    replace:
      `${WRITES_INSERT} ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET channel = excluded.channel, ` +
      'type = excluded.type, value = excluded.value, task_path = excluded.task_path',
  },
  async run(q, [w]) {
    // One statement may not update a row twice: of writes to one index, the one a row at
    // a time would leave is sent (the first when keeping, the last when replacing).
    const byIdx = new Map<number, WritesToPut['writes'][number]>();
    for (const write of w.writes) if (w.replace || !byIdx.has(write[0])) byIdx.set(write[0], write);
    const writes = [...byIdx.values()];
    await q.all(w.replace ? 'replace' : 'keep', [
      w.threadId,
      w.ns,
      w.checkpointId,
      w.taskId,
      w.taskPath,
      writes.map(([idx]) => idx),
      writes.map(([, channel]) => channel),
      writes.map(([, , type]) => type),
      writes.map(([, , , bytes]) => bytes),
    ]);
    await q.audit(undefined, {
      action: 'langgraph_put_writes',
      data: { threadId: w.threadId, checkpointNs: w.ns, checkpointId: w.checkpointId, taskId: w.taskId, writes: w.writes.length },
    });
  },
});

/** How many rows of each table a thread's delete removed. */
const DELETED = defineTable('lg_checkpoints', {
  checkpoints: { kind: 'integer', column: '(SELECT count(*) FROM c)::int' },
  blobs: { kind: 'integer', column: '(SELECT count(*) FROM b)::int' },
  writes: { kind: 'integer', column: '(SELECT count(*) FROM w)::int' },
});

export const pgLgThreadDelete = implement(lgThreadDelete, {
  statements: {
    delete:
      'WITH c AS (DELETE FROM lg_checkpoints WHERE thread_id = $1 RETURNING 1), b AS (DELETE FROM lg_checkpoint_blobs WHERE thread_id = $1 RETURNING 1), ' +
      'w AS (DELETE FROM lg_checkpoint_writes WHERE thread_id = $1 RETURNING 1) ' +
      `SELECT ${DELETED.columns}`,
  },
  async run(q, [threadId]) {
    const { checkpoints, blobs, writes } = DELETED.decode((await q.one('delete', [threadId]))!);
    await q.audit(undefined, { action: 'langgraph_delete_thread', data: { threadId, checkpoints, blobs, writes } });
    return { checkpoints };
  },
});

/** Every operation of the LangGraph adapter on PostgreSQL: the checkpointer's and the memory store's. */
export const pgLangGraphOperations = [
  pgLgCheckpointGet,
  pgLgCheckpointList,
  pgLgCheckpointPut,
  pgLgWritesPut,
  pgLgThreadDelete,
  ...pgLangGraphStoreOperations,
];
