import { StoreError } from '../api/errors.js';
import type { AuditContext, MemoryContext, MemoryEntry, MemoryType, Page } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import { MEMORY_ENTRIES } from './tables.js';
import { defineTable, type RawRow } from './table.js';
import { NOW } from './sql.js';

// A key's versions are rows (namespace, key, version). The current one is the newest
// version not marked deleted; idx_memory_namespace_key_version (namespace, key,
// is_deleted, version DESC) finds it with one index seek.
const CURRENT = raw(
  `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = ? AND key = ? AND is_deleted = 0 ` +
    'ORDER BY version DESC LIMIT 1',
);
const MAX_VERSION = pluck('SELECT max(version) FROM memory_entries WHERE namespace = ? AND key = ?');
const INSERT = raw(
  'INSERT INTO memory_entries (namespace, key, value, memory_type, version, metadata, created_by, updated_by, created_at) ' +
    `VALUES (?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, ${NOW})) RETURNING ${MEMORY_ENTRIES.columns}`,
);
// What an update carries over from the current version, as stored (metadata as its JSON
// text, unparsed).
const CURRENT_FOR_UPDATE =
  'SELECT version, memory_type AS type, metadata, created_by AS createdBy, created_at AS createdAt FROM memory_entries ' +
  'WHERE namespace = ? AND key = ? AND is_deleted = 0 ORDER BY version DESC LIMIT 1';

const describe = (namespace: string, key: string): string => `memory ${namespace} / ${key}`;

/**
 * A memory version as the reads (get, history, search, context) return it: MEMORY_ENTRIES'
 * columns in the same order, the value still its JSON text. The caller's thread decodes
 * it (src/services/memory-values.ts): a version's value never changes once written (its
 * row is only ever marked deleted; ids are never reused), so a process decodes each
 * version's value once while it is hot, and a row sent as text crosses from a reader
 * thread as one string rather than an object graph.
 */
export const MEMORY_ROWS = defineTable('memory_entries', { ...MEMORY_ENTRIES.spec, value: 'text' });

/** A memory version with its value as stored: JSON text. */
export type StoredMemoryEntry = MemoryEntry<string>;

// Newest live version of every key under a namespace prefix, in (namespace, key) order.
// Two index ranges, the prefix itself then everything under `prefix:`, concatenated in
// that order (the first sorts before the second); each is grouped in index order, so no
// sort is needed. ';' follows ':' so the second range never reaches `prefix2`.
// Parameters: prefix, type (or NULL), afterNamespace and afterKey (the cursor), limit.
const latestUnder = (after: boolean): string => {
  const seek = after ? ' AND (namespace, key) > (@afterNamespace, @afterKey)' : '';
  return (
    'SELECT * FROM (' +
    `SELECT ${MEMORY_ENTRIES.columns}, max(version) FROM memory_entries WHERE namespace = @prefix AND is_deleted = 0${seek} ` +
    'GROUP BY namespace, key ' +
    'UNION ALL ' +
    `SELECT ${MEMORY_ENTRIES.columns}, max(version) FROM memory_entries ` +
    `WHERE namespace >= @prefix || ':' AND namespace < @prefix || ';' ` +
    `AND is_deleted = 0${seek} GROUP BY namespace, key` +
    ') WHERE @type IS NULL OR memory_type = @type LIMIT @limit'
  );
};

export const memoryAdd = defineOperation({
  name: 'memory.add',
  kind: 'write',
  statements: {
    // Two index seeks. (One aggregate, max(version) with max(is_deleted = 0), read every
    // version of the key: 4 ms at 10k versions, 58 ms at 100k.)
    maxVersion: MAX_VERSION,
    live: pluck('SELECT 1 FROM memory_entries WHERE namespace = ? AND key = ? AND is_deleted = 0 LIMIT 1'),
    insert: INSERT,
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [namespace, key, value, type, metadata, createdBy, ctx]: readonly [
      string,
      string,
      string,
      MemoryType,
      string,
      string | null,
      AuditContext | undefined,
    ],
  ): MemoryEntry {
    if (st.live.get(namespace, key) !== undefined) {
      throw new StoreError('CONFLICT', `${describe(namespace, key)} already exists; update it instead`);
    }
    // Version 1, or max+1 when only deleted versions are left.
    const version = ((st.maxVersion.get(namespace, key) as number | null) ?? 0) + 1;
    const entry = MEMORY_ENTRIES.decode(st.insert.get(namespace, key, value, type, version, metadata, createdBy, createdBy, null) as RawRow);
    writeAudit(st.audit, ctx, {
      action: 'memory_create',
      data: { namespace, key, version },
      memory: { operation: 'create', namespace, entryId: entry.id },
    });
    return entry;
  },
});

export const memoryGet = defineOperation({
  name: 'memory.get',
  kind: 'read',
  statements: {
    current: CURRENT,
    version: raw(`SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = ? AND key = ? AND version = ?`),
  },
  run({ st }, [namespace, key, version]: readonly [string, string, number | null]): StoredMemoryEntry | undefined {
    const row = (version === null ? st.current.get(namespace, key) : st.version.get(namespace, key, version)) as
      | RawRow
      | undefined;
    return row === undefined ? undefined : MEMORY_ROWS.decode(row);
  },
});

export const memoryUpdate = defineOperation({
  name: 'memory.update',
  kind: 'write',
  statements: { current: CURRENT_FOR_UPDATE, maxVersion: MAX_VERSION, insert: INSERT, audit: AUDIT_INSERT },
  run(
    { st },
    [namespace, key, value, expectedVersion, updatedBy, metadata, ctx]: readonly [
      string,
      string,
      string,
      number | null,
      string | null,
      string | null,
      AuditContext | undefined,
    ],
  ): MemoryEntry {
    const current = st.current.get(namespace, key) as
      | { version: number; type: MemoryType; metadata: string | null; createdBy: string | null; createdAt: string }
      | undefined;
    if (current === undefined) throw new StoreError('NOT_FOUND', `${describe(namespace, key)} does not exist`);
    const currentVersion = current.version;
    if (expectedVersion !== null && currentVersion !== expectedVersion) {
      throw new StoreError(
        'CONFLICT',
        `${describe(namespace, key)} is at version ${currentVersion}, not the expected ${expectedVersion}`,
      );
    }
    // max+1 over every version, deleted ones included: a rolled-back version keeps its number.
    const version = (st.maxVersion.get(namespace, key) as number) + 1;
    const entry = MEMORY_ENTRIES.decode(
      st.insert.get(
        namespace,
        key,
        value,
        current.type,
        version,
        metadata ?? current.metadata,
        current.createdBy,
        updatedBy,
        current.createdAt,
      ) as RawRow,
    );
    writeAudit(st.audit, ctx, {
      action: 'memory_update',
      data: { namespace, key, version, previousVersion: currentVersion },
      memory: { operation: 'update', namespace, entryId: entry.id },
    });
    return entry;
  },
});

export const memoryDelete = defineOperation({
  name: 'memory.delete',
  kind: 'write',
  statements: {
    // Every version, not only the current one: marking the current one alone would
    // bring the previous version back as current.
    markAll:
      `UPDATE memory_entries SET is_deleted = 1, updated_at = ${NOW} ` +
      'WHERE namespace = ? AND key = ? AND is_deleted = 0 RETURNING id, version',
    audit: AUDIT_INSERT,
  },
  run({ st }, [namespace, key, ctx]: readonly [string, string, AuditContext | undefined]): { deletedVersions: number } {
    const rows = st.markAll.all(namespace, key) as { id: number; version: number }[];
    if (rows.length === 0) throw new StoreError('NOT_FOUND', `${describe(namespace, key)} does not exist`);
    const newest = rows.reduce((a, b) => (b.version > a.version ? b : a));
    writeAudit(st.audit, ctx, {
      action: 'memory_delete',
      data: { namespace, key, deletedVersions: rows.length },
      memory: { operation: 'delete', namespace, entryId: newest.id },
    });
    return { deletedVersions: rows.length };
  },
});

export const memoryRollback = defineOperation({
  name: 'memory.rollback',
  kind: 'write',
  statements: {
    lastTwo: raw(
      `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = ? AND key = ? AND is_deleted = 0 ` +
        'ORDER BY version DESC LIMIT 2',
    ),
    mark: `UPDATE memory_entries SET is_deleted = 1, updated_at = ${NOW} WHERE id = ?`,
    audit: AUDIT_INSERT,
  },
  run({ st }, [namespace, key, ctx]: readonly [string, string, AuditContext | undefined]): MemoryEntry {
    const [current, previous] = (st.lastTwo.all(namespace, key) as RawRow[]).map(MEMORY_ENTRIES.decode);
    if (current === undefined) throw new StoreError('NOT_FOUND', `${describe(namespace, key)} does not exist`);
    if (previous === undefined) {
      throw new StoreError(
        'INVALID_STATE',
        `${describe(namespace, key)} has no earlier live version to roll back to; delete it instead`,
      );
    }
    st.mark.run(current.id);
    writeAudit(st.audit, ctx, {
      action: 'memory_rollback',
      data: { namespace, key, from: current.version, to: previous.version },
      memory: { operation: 'update', namespace, entryId: current.id },
    });
    return previous;
  },
});

export const memoryHistory = defineOperation({
  name: 'memory.history',
  kind: 'read',
  statements: {
    first: raw(
      `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = ? AND key = ? ORDER BY version DESC LIMIT ?`,
    ),
    next: raw(
      `SELECT ${MEMORY_ENTRIES.columns} FROM memory_entries WHERE namespace = ? AND key = ? AND version < ? ` +
        'ORDER BY version DESC LIMIT ?',
    ),
  },
  run(
    { st },
    [namespace, key, limit, after]: readonly [string, string, number, readonly [number] | null],
  ): Page<StoredMemoryEntry> {
    const rows = (after === null
      ? st.first.all(namespace, key, limit + 1)
      : st.next.all(namespace, key, after[0], limit + 1)) as RawRow[];
    return toPage(rows, limit, MEMORY_ROWS.decode, (entry) => [entry.version]);
  },
});

export const memorySearch = defineOperation({
  name: 'memory.search',
  kind: 'read',
  statements: { first: raw(latestUnder(false)), next: raw(latestUnder(true)) },
  run(
    { st },
    [prefix, type, limit, after]: readonly [string, MemoryType | null, number, readonly [string, string] | null],
  ): Page<StoredMemoryEntry> {
    const rows = (after === null
      ? st.first.all({ prefix, type, limit: limit + 1 })
      : st.next.all({ prefix, type, afterNamespace: after[0], afterKey: after[1], limit: limit + 1 })) as RawRow[];
    return toPage(rows, limit, MEMORY_ROWS.decode, (entry) => [entry.namespace, entry.key]);
  },
});

export const memoryContext = defineOperation({
  name: 'memory.context',
  kind: 'read',
  statements: { latest: raw(latestUnder(false)) },
  run(
    { st },
    [sessionId, userId, appName, projectId, limit]: readonly [string, string, string, string | null, number],
  ): MemoryContext<string> {
    let truncated = false;
    // All four scopes are read in the batch's one read transaction: one snapshot.
    const scope = (prefix: string | null): StoredMemoryEntry[] => {
      if (prefix === null) return [];
      const rows = st.latest.all({ prefix, type: null, limit: limit + 1 }) as RawRow[];
      if (rows.length > limit) {
        truncated = true;
        rows.length = limit;
      }
      return rows.map((row) => MEMORY_ROWS.decode(row));
    };
    return {
      session: scope(`session:${sessionId}`),
      user: scope(`user:${userId}`),
      app: scope(`app:${appName}`),
      project: scope(projectId === null ? null : `project:${projectId}`),
      truncated,
    };
  },
});

export const memoryExpireEpisodic = defineOperation({
  name: 'memory.expireEpisodic',
  kind: 'write',
  statements: {
    // A key expires when its every live version is older than the cutoff (so its
    // current version is stale); all its versions are marked, as delete does.
    expire:
      `UPDATE memory_entries SET is_deleted = 1, updated_at = ${NOW} ` +
      'WHERE is_deleted = 0 AND (namespace, key) IN (' +
      'SELECT namespace, key FROM memory_entries AS m ' +
      "WHERE memory_type = 'episodic' AND is_deleted = 0 AND updated_at < @cutoff " +
      'AND NOT EXISTS (SELECT 1 FROM memory_entries AS n WHERE n.namespace = m.namespace AND n.key = m.key ' +
      'AND n.is_deleted = 0 AND n.updated_at >= @cutoff)) ' +
      'RETURNING id, namespace, key, version',
    audit: AUDIT_INSERT,
  },
  run({ st }, [olderThan, ctx]: readonly [string, AuditContext | undefined]): { expired: number } {
    const rows = st.expire.all({ cutoff: olderThan }) as { id: number; namespace: string; key: string; version: number }[];
    const newestByKey = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const id = JSON.stringify([row.namespace, row.key]);
      const seen = newestByKey.get(id);
      if (seen === undefined || row.version > seen.version) newestByKey.set(id, row);
    }
    for (const row of newestByKey.values()) {
      writeAudit(st.audit, ctx, {
        action: 'memory_expire',
        data: { namespace: row.namespace, key: row.key, olderThan },
        memory: { operation: 'delete', namespace: row.namespace, entryId: row.id },
      });
    }
    return { expired: newestByKey.size };
  },
});

export const memoryOperations = [
  memoryAdd,
  memoryGet,
  memoryUpdate,
  memoryDelete,
  memoryRollback,
  memoryHistory,
  memorySearch,
  memoryContext,
  memoryExpireEpisodic,
];
