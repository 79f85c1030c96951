import { StoreError } from '../../api/errors.js';
import { toPage } from '../../catalogue/cursor.js';
import {
  memoryAdd,
  memoryContext,
  memoryDelete,
  memoryExpireEpisodic,
  memoryGet,
  memoryHistory,
  memoryRollback,
  memorySearch,
  memoryUpdate,
  MEMORY_ROWS,
  type StoredMemoryEntry,
} from '../../catalogue/memory.js';
import { defineTable, type RawRow, type RowOf } from '../../catalogue/table.js';
import { MEMORY_ENTRIES } from '../../catalogue/tables.js';
import { implement, RetryTransaction } from '../operation.js';
import { isUniqueViolation } from './conflict.js';
import { NOW } from './sql.js';

const describe = (namespace: string, key: string): string => `memory ${namespace} / ${key}`;

// Every write to one key first takes a transaction-scoped advisory lock on the key, so
// the writes to a key are serialised across every connection and host, as the single
// writer serialises them on SQLite: a delete cannot miss a version an update is adding.
// The version itself is computed and written in one statement, and UNIQUE (namespace,
// key, version) is the last word: of two writers that computed the same version (one not
// taking the lock, say), one gets CONFLICT.
const LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7))";

const CURRENT =
  `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = $1 AND key = $2 AND is_deleted = false ` +
  'ORDER BY version DESC LIMIT 1';

export const pgMemoryAdd = implement(memoryAdd, {
  statements: {
    lock: LOCK_KEY,
    // Version 1, or max+1 when only deleted versions are left; no row when one is live.
    insert:
      'INSERT INTO memory_entries (namespace, key, value, memory_type, version, metadata, created_by, updated_by) ' +
      'SELECT $1, $2, $3::jsonb, $4, coalesce(max(version), 0) + 1, $5::jsonb, $6, $6 FROM memory_entries ' +
      'WHERE namespace = $1 AND key = $2 HAVING NOT coalesce(bool_or(NOT is_deleted), false) ' +
      `RETURNING ${MEMORY_ENTRIES.columns}`,
  },
  async run(q, [namespace, key, value, type, metadata, createdBy, ctx]) {
    await q.send('lock', [namespace, key]);
    let row: RawRow | undefined;
    try {
      row = await q.one('insert', [namespace, key, value, type, metadata, createdBy]);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StoreError('CONFLICT', `${describe(namespace, key)} was added concurrently; update it instead`, { pgCode: '23505', cause: error });
      }
      throw error;
    }
    if (row === undefined) throw new StoreError('CONFLICT', `${describe(namespace, key)} already exists; update it instead`);
    const entry = MEMORY_ENTRIES.decode(row);
    await q.audit(ctx, {
      action: 'memory_create',
      data: { namespace, key, version: entry.version },
      memory: { operation: 'create', namespace, entryId: entry.id },
    });
    return entry;
  },
});

export const pgMemoryGet = implement(memoryGet, {
  statements: {
    current: CURRENT,
    version: `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = $1 AND key = $2 AND version = $3`,
  },
  async run(q, [namespace, key, version]) {
    const row = version === null ? await q.one('current', [namespace, key]) : await q.one('version', [namespace, key, version]);
    return row === undefined ? undefined : MEMORY_ROWS.decode(row);
  },
});

export const pgMemoryUpdate = implement(memoryUpdate, {
  statements: {
    lock: LOCK_KEY,
    // One statement: the current version (checked against $6 when given), the next
    // version after every one (deleted included), the new row, and the version it
    // replaced. No row: no live version, or not the expected one.
    insert:
      'WITH cur AS (' +
      'SELECT memory_type, version, metadata, created_by, created_at FROM memory_entries ' +
      'WHERE namespace = $1 AND key = $2 AND is_deleted = false ORDER BY version DESC LIMIT 1), ' +
      'top AS (SELECT max(version) AS version FROM memory_entries WHERE namespace = $1 AND key = $2), ' +
      'ins AS (INSERT INTO memory_entries (namespace, key, value, memory_type, version, metadata, created_by, updated_by, created_at) ' +
      'SELECT $1, $2, $3::jsonb, cur.memory_type, top.version + 1, coalesce($5::jsonb, cur.metadata), cur.created_by, $4, ' +
      'cur.created_at FROM cur, top WHERE $6::int IS NULL OR cur.version = $6::int ' +
      `RETURNING ${MEMORY_ENTRIES.columns}) ` +
      'SELECT ins.*, cur.version FROM ins, cur',
    current: 'SELECT version FROM memory_entries WHERE namespace = $1 AND key = $2 AND is_deleted = false ORDER BY version DESC LIMIT 1',
  },
  async run(q, [namespace, key, value, expectedVersion, updatedBy, metadata, ctx]) {
    await q.send('lock', [namespace, key]);
    let row: RawRow | undefined;
    try {
      row = await q.one('insert', [namespace, key, value, updatedBy, metadata, expectedVersion]);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another writer took this version between our read and our insert.
      if (expectedVersion !== null) {
        throw new StoreError('CONFLICT', `${describe(namespace, key)} moved past the expected version ${expectedVersion}`, {
          pgCode: '23505',
          cause: error,
        });
      }
      throw new RetryTransaction(`${describe(namespace, key)} was updated concurrently`);
    }
    if (row === undefined) {
      const current = (await q.value('current', [namespace, key])) as number | undefined;
      if (current === undefined) throw new StoreError('NOT_FOUND', `${describe(namespace, key)} does not exist`);
      throw new StoreError('CONFLICT', `${describe(namespace, key)} is at version ${current}, not the expected ${String(expectedVersion)}`);
    }
    const entry = MEMORY_ENTRIES.decode(row);
    // After the entry's columns: the version the new one replaced.
    await q.audit(ctx, {
      action: 'memory_update',
      data: { namespace, key, version: entry.version, previousVersion: MEMORY_ENTRIES.after(row) as number },
      memory: { operation: 'update', namespace, entryId: entry.id },
    });
    return entry;
  },
});

// The shapes of the rows delete and expire return, decoded by name as the tables are.
/** One version a delete or an expiry marked. */
const MARKED = defineTable('memory_entries', { id: 'integer', version: 'integer' });
const EXPIRED = defineTable('memory_entries', {
  id: { kind: 'integer', column: 'u.id' },
  namespace: { kind: 'text', column: 'u.namespace' },
  key: { kind: 'text', column: 'u.key' },
  version: { kind: 'integer', column: 'u.version' },
});
/** A key with no version written since the cut-off. */
const STALE_KEY = defineTable('memory_entries', {
  namespace: { kind: 'text', column: 'm.namespace' },
  key: { kind: 'text', column: 'm.key' },
});

export const pgMemoryDelete = implement(memoryDelete, {
  statements: {
    lock: LOCK_KEY,
    // Every version, not only the current one: marking the current one alone would
    // bring the previous version back as current.
    markAll:
      `UPDATE memory_entries SET is_deleted = true, updated_at = ${NOW} ` +
      `WHERE namespace = $1 AND key = $2 AND is_deleted = false RETURNING ${MARKED.columns}`,
  },
  async run(q, [namespace, key, ctx]) {
    await q.send('lock', [namespace, key]);
    const rows = (await q.all('markAll', [namespace, key])).map(MARKED.decode);
    if (rows.length === 0) throw new StoreError('NOT_FOUND', `${describe(namespace, key)} does not exist`);
    const newest = rows.reduce((a, b) => (b.version > a.version ? b : a));
    await q.audit(ctx, {
      action: 'memory_delete',
      data: { namespace, key, deletedVersions: rows.length },
      memory: { operation: 'delete', namespace, entryId: newest.id },
    });
    return { deletedVersions: rows.length };
  },
});

export const pgMemoryRollback = implement(memoryRollback, {
  statements: {
    lock: LOCK_KEY,
    lastTwo:
      `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = $1 AND key = $2 AND is_deleted = false ` +
      'ORDER BY version DESC LIMIT 2',
    mark: `UPDATE memory_entries SET is_deleted = true, updated_at = ${NOW} WHERE id = $1`,
  },
  async run(q, [namespace, key, ctx]) {
    await q.send('lock', [namespace, key]);
    const [current, previous] = (await q.all('lastTwo', [namespace, key])).map((row) => MEMORY_ENTRIES.decode(row));
    if (current === undefined) throw new StoreError('NOT_FOUND', `${describe(namespace, key)} does not exist`);
    if (previous === undefined) {
      throw new StoreError('INVALID_STATE', `${describe(namespace, key)} has no earlier live version to roll back to; delete it instead`);
    }
    await q.all('mark', [current.id]);
    await q.audit(ctx, {
      action: 'memory_rollback',
      data: { namespace, key, from: current.version, to: previous.version },
      memory: { operation: 'update', namespace, entryId: current.id },
    });
    return previous;
  },
});

export const pgMemoryHistory = implement(memoryHistory, {
  statements: {
    first: `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = $1 AND key = $2 ORDER BY version DESC LIMIT $3`,
    next:
      `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = $1 AND key = $2 AND version < $4 ` +
      'ORDER BY version DESC LIMIT $3',
  },
  async run(q, [namespace, key, limit, after]) {
    const rows =
      after === null ? await q.all('first', [namespace, key, limit + 1]) : await q.all('next', [namespace, key, limit + 1, after[0]]);
    return toPage<RawRow, StoredMemoryEntry>(rows, limit, MEMORY_ROWS.decode, (entry) => [entry.version]);
  },
});

// The newest live version of every key under a namespace prefix, in (namespace, key)
// order: the namespace itself, then everything under `prefix:`, two ranges of
// idx_memory_namespace_key_version whose concatenation is in order (';' follows ':' and
// namespaces compare bytes, COLLATE "C"). DISTINCT ON keeps each key's first row in
// (namespace, key, version DESC) order: its newest live version. Parameters: prefix,
// limit, then type and the cursor (namespace, key) where the variant takes them.
const latestUnder = (variant: { type: boolean; after: boolean }): string => {
  const type = variant.type ? ' AND memory_type = $3' : '';
  const seek = variant.after ? ` AND (namespace, key) > ($${variant.type ? 4 : 3}, $${variant.type ? 5 : 4})` : '';
  return latestIn('$1', '$2', `${type}${seek}`);
};

/** The newest live version of every key under the prefix in parameter `prefix`, at most `limit` of them. */
const latestIn = (prefix: string, limit: string, where = ''): string => {
  const range = (namespaces: string): string =>
    `(SELECT DISTINCT ON (namespace, key) ${MEMORY_ENTRIES.columns} FROM memory_entries ` +
    `WHERE ${namespaces} AND is_deleted = false${where} ORDER BY namespace, key, version DESC LIMIT ${limit})`;
  return `${range(`namespace = ${prefix}`)} UNION ALL ${range(`namespace >= ${prefix} || ':' AND namespace < ${prefix} || ';'`)} LIMIT ${limit}`;
};

export const pgMemorySearch = implement(memorySearch, {
  statements: {
    first: latestUnder({ type: false, after: false }),
    next: latestUnder({ type: false, after: true }),
    typedFirst: latestUnder({ type: true, after: false }),
    typedNext: latestUnder({ type: true, after: true }),
  },
  async run(q, [prefix, type, limit, after]) {
    const n = limit + 1;
    let rows: RawRow[];
    if (type === null) rows = after === null ? await q.all('first', [prefix, n]) : await q.all('next', [prefix, n, after[0], after[1]]);
    else rows = after === null ? await q.all('typedFirst', [prefix, n, type]) : await q.all('typedNext', [prefix, n, type, after[0], after[1]]);
    return toPage<RawRow, StoredMemoryEntry>(rows, limit, MEMORY_ROWS.decode, (entry) => [entry.namespace, entry.key]);
  },
});

/** The scopes memory.context reads, in the order of its statement's parameters. */
const CONTEXT_SCOPES = ['session', 'user', 'app', 'project'] as const;
/** What memory.context's rows carry after the entry's columns: the scope's number. */
const IN_SCOPE = defineTable('memory_entries', { scope: 'integer' });

export const pgMemoryContext = implement(memoryContext, {
  statements: {
    // The four scopes in one statement, one snapshot, one round trip; each row ends with its
    // scope's number. A scope's rows stay in its ranges' order (UNION ALL appends them).
    latest: CONTEXT_SCOPES.map((_, i) => `SELECT c.*, ${i} AS scope FROM (${latestIn(`$${i + 1}`, '$5')}) AS c`).join(' UNION ALL '),
  },
  async run(q, [sessionId, userId, appName, projectId, limit]) {
    const prefixes = [`session:${sessionId}`, `user:${userId}`, `app:${appName}`, projectId === null ? null : `project:${projectId}`];
    const rows = await q.all('latest', [...prefixes, limit + 1]);
    const scopes: Record<(typeof CONTEXT_SCOPES)[number], StoredMemoryEntry[]> = { session: [], user: [], app: [], project: [] };
    let truncated = false;
    for (const row of rows) {
      const scope = scopes[CONTEXT_SCOPES[IN_SCOPE.decodeAt(row, MEMORY_ROWS.width).scope]!];
      if (scope.length < limit) scope.push(MEMORY_ROWS.decode(row));
      else truncated = true;
    }
    return { ...scopes, truncated };
  },
});

/** Stale candidates marked per statement: bounded steps, each planned as index lookups. */
const EXPIRE_STEP = 500;

export const pgMemoryExpireEpisodic = implement(memoryExpireEpisodic, {
  statements: {
    // A key expires when its every live version is older than the cutoff; all its live
    // versions are marked, as delete does. In steps of at most EXPIRE_STEP keys until none
    // is left, in the call's one transaction: readers see all of it or none.
    stale:
      `SELECT DISTINCT ${STALE_KEY.columns} FROM memory_entries AS m ` +
      "WHERE m.memory_type = 'episodic' AND m.is_deleted = false AND m.updated_at < $1::timestamptz " +
      'AND NOT EXISTS (SELECT 1 FROM memory_entries AS n WHERE n.namespace = m.namespace AND n.key = m.key ' +
      `AND n.is_deleted = false AND n.updated_at >= $1::timestamptz) LIMIT ${EXPIRE_STEP}`,
    // The keys as arrays: each is one lookup of idx_memory_namespace_key_version.
    expire:
      `UPDATE memory_entries AS u SET is_deleted = true, updated_at = ${NOW} ` +
      'FROM unnest($1::text[], $2::text[]) AS stale(namespace, key) ' +
      'WHERE u.namespace = stale.namespace AND u.key = stale.key AND u.is_deleted = false ' +
      `RETURNING ${EXPIRED.columns}`,
    // One audit row per expired key, in one statement.
    audit:
      'INSERT INTO audit (agent_id, task_id, action_type, action_data, result, memory_operation_type, memory_namespace, memory_entry_id) ' +
      "SELECT $1, $2, 'memory_expire', jsonb_build_object('namespace', x.namespace, 'key', x.key, 'olderThan', $3::text), 'ok', " +
      "'delete', x.namespace, x.id FROM unnest($4::text[], $5::text[], $6::bigint[]) AS x(namespace, key, id)",
  },
  async run(q, [olderThan, ctx]) {
    const newestByKey = new Map<string, RowOf<typeof EXPIRED>>();
    for (;;) {
      const stale = (await q.all('stale', [olderThan])).map(STALE_KEY.decode);
      if (stale.length === 0) break;
      const rows = (await q.all('expire', [stale.map((k) => k.namespace), stale.map((k) => k.key)])).map(EXPIRED.decode);
      for (const row of rows) {
        const id = JSON.stringify([row.namespace, row.key]);
        const seen = newestByKey.get(id);
        if (seen === undefined || row.version > seen.version) newestByKey.set(id, row);
      }
    }
    if (newestByKey.size > 0) {
      const expired = [...newestByKey.values()];
      await q.all('audit', [
        ctx?.agentId ?? null,
        ctx?.taskId ?? null,
        olderThan,
        expired.map((row) => row.namespace),
        expired.map((row) => row.key),
        expired.map((row) => row.id),
      ]);
    }
    return { expired: newestByKey.size };
  },
});

export const pgMemoryOperations = [
  pgMemoryAdd,
  pgMemoryGet,
  pgMemoryUpdate,
  pgMemoryDelete,
  pgMemoryRollback,
  pgMemoryHistory,
  pgMemorySearch,
  pgMemoryContext,
  pgMemoryExpireEpisodic,
];
