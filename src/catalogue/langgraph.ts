import type { Statement } from 'better-sqlite3';
import { LG_CHECKPOINTS } from './adapter-tables.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { defineOperation, raw } from './operation.js';
import { storeOperations } from './langgraph-store.js';
import { defineTable, type RawRow, type RowOf } from './table.js';

// The LangGraph.js checkpointer's tables (sql/migrations/003_langgraph.sql). Everything
// that crosses to the workers is plain data: the adapter serializes with the saver's own
// serializer on the caller's thread (values can be class instances and the serializer is
// the user's), and these operations store and return (type, bytes) pairs untouched.

/** A serializer's output: its type tag and its bytes. */
export type Typed = readonly [type: string, bytes: Uint8Array];

/** The pending-write channel whose writes are the sends of checkpoints older than format 4. */
const TASKS = '__pregel_tasks';

/** One checkpoint as stored: the adapter turns it back into a CheckpointTuple. */
export interface StoredCheckpoint {
  threadId: string;
  ns: string;
  id: string;
  parentId: string | null;
  checkpoint: Typed;
  metadata: Typed;
  /** [channel, type, bytes] of each channel with a value at the checkpoint's version of it. */
  values: [channel: string, type: string, bytes: Uint8Array][];
  /** [taskId, channel, type, bytes], in (task path, task id, index) order. */
  writes: [taskId: string, channel: string, type: string, bytes: Uint8Array][];
  /** Checkpoints older than format 4 with a parent: the parent's pending sends, in order. */
  sends: Typed[] | null;
}

export interface CheckpointToPut {
  threadId: string;
  ns: string;
  id: string;
  parentId: string | null;
  v: number;
  checkpoint: Typed;
  /** JSON of channel → version, the checkpoint's `channel_versions`. */
  channelVersions: string;
  metadata: Typed;
  /** JSON of the metadata for list()'s filter, or null when JSON cannot hold it. */
  metadataJson: string | null;
  /** The channels in `newVersions`: [channel, version, type, bytes]; type 'empty' and no bytes when the channel has no value. */
  blobs: [channel: string, version: number | string, type: string, bytes: Uint8Array | null][];
}

/** Where a list page starts after: [checkpoint id, thread id, namespace] of the last row examined. */
export type ListCursor = readonly [id: string, threadId: string, ns: string];

export interface CheckpointQuery {
  /** Null: every thread. */
  threadId: string | null;
  /** Null: every namespace. */
  ns: string | null;
  /** Only this checkpoint, when given. */
  checkpointId: string | null;
  /** Only checkpoints older than this id (`before`), when given. */
  before: string | null;
  /** [metadata key, JSON of the value it must equal]. */
  filter: (readonly [key: string, json: string])[];
  /** Most checkpoints to return. */
  limit: number;
  /** Continue after this row (from the previous page). */
  after: ListCursor | null;
}

export interface CheckpointPage {
  checkpoints: StoredCheckpoint[];
  /** Where the next page starts; null when nothing is left. */
  next: ListCursor | null;
}

/** Rows one list call examines at most: a filter that matches little still answers in bounded time. */
export const LIST_SCAN_LIMIT = 1000;

// The rows these statements read, decoded by name as every table's are. SQLite's blobs
// are kept as better-sqlite3 returns them (`blob`: a Buffer of their own, no second copy).
/** A checkpoint row, with the two columns SQLite reads here and PostgreSQL reads in SQL. */
const CHECKPOINT_ROW = defineTable('lg_checkpoints', {
  ...LG_CHECKPOINTS.spec,
  checkpoint: 'blob',
  metadata: 'blob',
  /** JSON of channel → version: where the checkpoint's values are. */
  channelVersions: 'text',
  /** JSON of the metadata, for list()'s filter. */
  metadataJson: 'text?',
});
type CheckpointRow = RowOf<typeof CHECKPOINT_ROW>;
const CHECKPOINT_COLUMNS = CHECKPOINT_ROW.columns;
/** One pending write; `taskPath` orders them. */
const WRITE_ROW = defineTable('lg_checkpoint_writes', { taskId: 'text', channel: 'text', type: 'text', value: 'blob', taskPath: 'text' });
type WriteRow = RowOf<typeof WRITE_ROW>;
/** A channel's value at one version. */
const BLOB_ROW = defineTable('lg_checkpoint_blobs', { type: 'text', value: 'blob' });

/**
 * Compares strings by Unicode code point, the order LangGraph sorts task paths in
 * (`compareWritesSortKeys`) and SQLite's BINARY collation compares UTF-8 in. `<` on JS
 * strings compares UTF-16 code units, which puts U+10000 and up before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : -1;
}

/** Pending writes of one checkpoint, in (task path, task id, index) order. */
function pendingWrites(statement: Statement, threadId: string, ns: string, id: string): WriteRow[] {
  // The index gives (task id, index) order; a stable sort by path completes it.
  const rows = (statement.all(threadId, ns, id) as RawRow[]).map(WRITE_ROW.decode);
  return rows.sort((a, b) => compareCodePoints(a.taskPath, b.taskPath));
}

interface ReadStatements {
  blob: Statement;
  writes: Statement;
  sends: Statement;
}

function storedCheckpoint(st: ReadStatements, row: CheckpointRow): StoredCheckpoint {
  const { threadId, checkpointNs: ns, checkpointId: id, parentCheckpointId: parentId, v, checkpointType, checkpoint, metadataType, metadata } = row;
  const values: StoredCheckpoint['values'] = [];
  const versions = JSON.parse(row.channelVersions) as Record<string, number | string>;
  for (const [channel, version] of Object.entries(versions)) {
    const found = st.blob.get(threadId, ns, channel, version) as RawRow | undefined;
    if (found === undefined) continue;
    const blob = BLOB_ROW.decode(found);
    if (blob.type !== 'empty') values.push([channel, blob.type, blob.value]);
  }
  const writes = pendingWrites(st.writes, threadId, ns, id).map(
    (w): StoredCheckpoint['writes'][number] => [w.taskId, w.channel, w.type, w.value],
  );
  const sends =
    v < 4 && parentId !== null ? pendingWrites(st.sends, threadId, ns, parentId).map((w): Typed => [w.type, w.value]) : null;
  return { threadId, ns, id, parentId, checkpoint: [checkpointType, checkpoint], metadata: [metadataType, metadata], values, writes, sends };
}

const READ_STATEMENTS = {
  blob: raw(
    `SELECT ${BLOB_ROW.columns} FROM lg_checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND version = ?`,
  ),
  writes: raw(
    `SELECT ${WRITE_ROW.columns} FROM lg_checkpoint_writes ` +
      'WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? ORDER BY task_id, idx',
  ),
  sends: raw(
    `SELECT ${WRITE_ROW.columns} FROM lg_checkpoint_writes ` +
      `WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? AND channel = '${TASKS}' ORDER BY task_id, idx`,
  ),
} as const;

export const lgCheckpointGet = defineOperation({
  name: 'langgraph.checkpoint.get',
  kind: 'read',
  statements: {
    ...READ_STATEMENTS,
    latest: raw(
      `SELECT ${CHECKPOINT_COLUMNS} FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ? ` +
        'ORDER BY checkpoint_id DESC LIMIT 1',
    ),
    one: raw(`SELECT ${CHECKPOINT_COLUMNS} FROM lg_checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`),
  },
  run({ st }, [threadId, ns, id]: readonly [string, string, string | null]): StoredCheckpoint | undefined {
    const row = (id === null ? st.latest.get(threadId, ns) : st.one.get(threadId, ns, id)) as RawRow | undefined;
    return row === undefined ? undefined : storedCheckpoint(st, CHECKPOINT_ROW.decode(row));
  },
});

// list(): newest first, keyset-paged. Three shapes, by what the query names: a thread and
// a namespace (the primary key), a thread (lg_checkpoints_thread_newest), or neither
// (lg_checkpoints_newest). Each orders by its index, so no statement sorts; the cursor
// holds the index's columns so that a page never skips or repeats a row.
const listStatement = (where: string, order: string): string =>
  `SELECT ${CHECKPOINT_COLUMNS} FROM lg_checkpoints WHERE ${where} ORDER BY ${order}`;
const BY_NS_ORDER = 'checkpoint_id DESC';
const BY_THREAD_ORDER = 'checkpoint_id DESC, checkpoint_ns DESC';
const ALL_ORDER = 'checkpoint_id DESC, thread_id DESC, checkpoint_ns DESC';

export const lgCheckpointList = defineOperation({
  name: 'langgraph.checkpoint.list',
  kind: 'read',
  statements: {
    ...READ_STATEMENTS,
    nsFirst: raw(listStatement('thread_id = @threadId AND checkpoint_ns = @ns', BY_NS_ORDER)),
    nsNext: raw(listStatement('thread_id = @threadId AND checkpoint_ns = @ns AND checkpoint_id < @id', BY_NS_ORDER)),
    threadFirst: raw(listStatement('thread_id = @threadId', BY_THREAD_ORDER)),
    threadNext: raw(listStatement('thread_id = @threadId AND (checkpoint_id, checkpoint_ns) < (@id, @ns)', BY_THREAD_ORDER)),
    allFirst: raw(`SELECT ${CHECKPOINT_COLUMNS} FROM lg_checkpoints ORDER BY ${ALL_ORDER}`),
    allNext: raw(listStatement('(checkpoint_id, thread_id, checkpoint_ns) < (@id, @threadId, @ns)', ALL_ORDER)),
  },
  run({ st }, [query]: readonly [CheckpointQuery]): CheckpointPage {
    const { threadId, ns, checkpointId, filter, limit, after } = query;
    // `before` is an exclusive bound on the id alone: ('', '') sorts below every thread
    // and namespace, so the cursor (before, '', '') excludes exactly the ids from `before` up.
    const start: ListCursor | null = after ?? (query.before === null ? null : [query.before, '', '']);
    let rows: Iterable<RawRow>;
    if (threadId !== null && ns !== null) {
      rows = (start === null ? st.nsFirst.iterate({ threadId, ns }) : st.nsNext.iterate({ threadId, ns, id: start[0] })) as Iterable<RawRow>;
    } else if (threadId !== null) {
      rows = (start === null
        ? st.threadFirst.iterate({ threadId })
        : st.threadNext.iterate({ threadId, id: start[0], ns: start[2] })) as Iterable<RawRow>;
    } else {
      rows = (start === null
        ? st.allFirst.iterate()
        : st.allNext.iterate({ id: start[0], threadId: start[1], ns: start[2] })) as Iterable<RawRow>;
    }
    const kept: CheckpointRow[] = [];
    let examined = 0;
    let last: CheckpointRow | undefined;
    let exhausted = true;
    for (const found of rows) {
      if (kept.length >= limit || examined >= LIST_SCAN_LIMIT) {
        exhausted = false;
        break;
      }
      examined++;
      const row = CHECKPOINT_ROW.decode(found);
      last = row;
      if (ns !== null && row.checkpointNs !== ns) continue;
      if (checkpointId !== null && row.checkpointId !== checkpointId) continue;
      if (filter.length > 0 && !metadataMatches(row.metadataJson, filter)) continue;
      kept.push(row);
    }
    return {
      // Values and writes are read once the page is chosen, for the rows kept only.
      checkpoints: kept.map((row) => storedCheckpoint(st, row)),
      next: exhausted || last === undefined ? null : [last.checkpointId, last.threadId, last.checkpointNs],
    };
  },
});

/** True when every filter key of the metadata holds a value whose JSON is the filter's. */
function metadataMatches(metadataJson: string | null, filter: CheckpointQuery['filter']): boolean {
  if (metadataJson === null) return false;
  const metadata = JSON.parse(metadataJson) as Record<string, unknown>;
  return filter.every(([key, json]) => Object.hasOwn(metadata, key) && JSON.stringify(metadata[key]) === json);
}

export const lgCheckpointPut = defineOperation({
  name: 'langgraph.checkpoint.put',
  kind: 'write',
  statements: {
    // A (channel, version) stored already keeps its value: versions never repeat with
    // another value (the adapter's versions are unique per fork), so this is a re-send.
    blob:
      'INSERT INTO lg_checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, value) VALUES (?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT DO NOTHING',
    checkpoint:
      'INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, v, checkpoint_type, ' +
      'checkpoint, channel_versions, metadata_type, metadata, metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET parent_checkpoint_id = excluded.parent_checkpoint_id, ' +
      'v = excluded.v, checkpoint_type = excluded.checkpoint_type, checkpoint = excluded.checkpoint, ' +
      'channel_versions = excluded.channel_versions, metadata_type = excluded.metadata_type, metadata = excluded.metadata, ' +
      'metadata_json = excluded.metadata_json',
    audit: AUDIT_INSERT,
  },
  run({ st }, [cp]: readonly [CheckpointToPut]): void {
    for (const [channel, version, type, bytes] of cp.blobs) st.blob.run(cp.threadId, cp.ns, channel, version, type, bytes);
    st.checkpoint.run(
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
    );
    writeAudit(st.audit, undefined, {
      action: 'langgraph_checkpoint_put',
      data: { threadId: cp.threadId, checkpointNs: cp.ns, checkpointId: cp.id, channels: cp.blobs.length },
    });
  },
});

export interface WritesToPut {
  threadId: string;
  ns: string;
  checkpointId: string;
  taskId: string;
  taskPath: string;
  /** [index, channel, type, bytes]: the index is the write's position, or a special channel's negative index. */
  writes: [idx: number, channel: string, type: string, bytes: Uint8Array][];
  /** Replace writes already stored at these indexes (a call of special channels only), or keep them. */
  replace: boolean;
}

const WRITE_COLUMNS = '(thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value, task_path)';

export const lgWritesPut = defineOperation({
  name: 'langgraph.writes.put',
  kind: 'write',
  statements: {
    keep: `INSERT INTO lg_checkpoint_writes ${WRITE_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    replace:
      `INSERT INTO lg_checkpoint_writes ${WRITE_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ` +
      'ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET channel = excluded.channel, ' +
      'type = excluded.type, value = excluded.value, task_path = excluded.task_path',
    audit: AUDIT_INSERT,
  },
  run({ st }, [w]: readonly [WritesToPut]): void {
    const insert = w.replace ? st.replace : st.keep;
    for (const [idx, channel, type, bytes] of w.writes) {
      insert.run(w.threadId, w.ns, w.checkpointId, w.taskId, idx, channel, type, bytes, w.taskPath);
    }
    writeAudit(st.audit, undefined, {
      action: 'langgraph_put_writes',
      data: { threadId: w.threadId, checkpointNs: w.ns, checkpointId: w.checkpointId, taskId: w.taskId, writes: w.writes.length },
    });
  },
});

export const lgThreadDelete = defineOperation({
  name: 'langgraph.thread.delete',
  kind: 'write',
  statements: {
    checkpoints: 'DELETE FROM lg_checkpoints WHERE thread_id = ?',
    blobs: 'DELETE FROM lg_checkpoint_blobs WHERE thread_id = ?',
    writes: 'DELETE FROM lg_checkpoint_writes WHERE thread_id = ?',
    audit: AUDIT_INSERT,
  },
  run({ st }, [threadId]: readonly [string]): { checkpoints: number } {
    const checkpoints = st.checkpoints.run(threadId).changes;
    const blobs = st.blobs.run(threadId).changes;
    const writes = st.writes.run(threadId).changes;
    writeAudit(st.audit, undefined, { action: 'langgraph_delete_thread', data: { threadId, checkpoints, blobs, writes } });
    return { checkpoints };
  },
});

export const checkpointerOperations = [lgCheckpointGet, lgCheckpointList, lgCheckpointPut, lgWritesPut, lgThreadDelete];

/** Every operation of the LangGraph adapter: the checkpointer's and the memory store's. */
export const langgraphOperations = [...checkpointerOperations, ...storeOperations];
