import { StoreError } from '../api/errors.js';
import type { AuditContext, DocumentEntry, DocumentType, Page } from '../api/types.js';
import { AUDIT_INSERT, writeAudit } from './audit-log.js';
import { toPage } from './cursor.js';
import { defineOperation, pluck, raw } from './operation.js';
import { DOCUMENTS } from './tables.js';
import type { RawRow } from './table.js';
import { NOW } from './sql.js';

const BY_PATH = raw(`SELECT ${DOCUMENTS.columns} FROM document_index WHERE file_path = ?`);
const PENDING = `SELECT ${DOCUMENTS.columns} FROM document_index WHERE sync_status IN ('pending', 'stale')`;

const missing = (filePath: string): StoreError => new StoreError('NOT_FOUND', `document ${filePath} is not indexed`);

/** Packs an embedding's bytes as stored: the Float32Array's own bytes, platform order. */
function embeddingBlob(embedding: Float32Array): Buffer {
  return Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
}

export const documentsUpsert = defineOperation({
  name: 'documents.upsert',
  kind: 'write',
  statements: {
    hash: pluck('SELECT content_hash FROM document_index WHERE file_path = ?'),
    // A changed content hash marks the row stale: its embedding no longer matches.
    upsert: raw(
      'INSERT INTO document_index (file_path, title, document_type, content_hash, chunk_count, metadata) ' +
        "VALUES (@filePath, @title, @documentType, @contentHash, coalesce(@chunkCount, 1), coalesce(@metadata, '{}')) " +
        'ON CONFLICT (file_path) DO UPDATE SET title = excluded.title, document_type = excluded.document_type, ' +
        'content_hash = excluded.content_hash, chunk_count = coalesce(@chunkCount, chunk_count), ' +
        'metadata = coalesce(@metadata, metadata), ' +
        "sync_status = CASE WHEN content_hash <> excluded.content_hash THEN 'stale' ELSE sync_status END, " +
        `updated_at = ${NOW} RETURNING ${DOCUMENTS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [filePath, title, documentType, contentHash, chunkCount, metadata, ctx]: readonly [
      string,
      string,
      DocumentType | null,
      string,
      number | null,
      string | null,
      AuditContext | undefined,
    ],
  ): DocumentEntry {
    const previousHash = st.hash.get(filePath) as string | undefined;
    const row = st.upsert.get({ filePath, title, documentType, contentHash, chunkCount, metadata }) as RawRow;
    writeAudit(st.audit, ctx, {
      action: 'document_upsert',
      data: { filePath, created: previousHash === undefined, contentChanged: previousHash !== undefined && previousHash !== contentHash },
    });
    return DOCUMENTS.decode(row);
  },
});

export const documentsGet = defineOperation({
  name: 'documents.get',
  kind: 'read',
  statements: { byPath: BY_PATH },
  run({ st }, [filePath]: readonly [string]): DocumentEntry | undefined {
    const row = st.byPath.get(filePath) as RawRow | undefined;
    return row === undefined ? undefined : DOCUMENTS.decode(row);
  },
});

export const documentsListByType = defineOperation({
  name: 'documents.listByType',
  kind: 'read',
  statements: {
    first: raw(
      `SELECT ${DOCUMENTS.columns} FROM document_index WHERE document_type = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
    ),
    next: raw(
      `SELECT ${DOCUMENTS.columns} FROM document_index WHERE document_type = @type AND created_at <= @at ` +
        'AND (created_at < @at OR id < @id) ORDER BY created_at DESC, id DESC LIMIT @limit',
    ),
  },
  run(
    { st },
    [type, limit, after]: readonly [DocumentType, number, readonly [string, number] | null],
  ): Page<DocumentEntry> {
    const rows = (after === null
      ? st.first.all(type, limit + 1)
      : st.next.all({ type, at: after[0], id: after[1], limit: limit + 1 })) as RawRow[];
    return toPage(rows, limit, DOCUMENTS.decode, (document) => [document.createdAt, document.id]);
  },
});

export const documentsPendingSync = defineOperation({
  name: 'documents.pendingSync',
  kind: 'read',
  statements: {
    // A work queue: pending first, then stale, least recently synced first (never-synced
    // documents, whose last_synced_at is NULL, first of all), in the order of
    // idx_document_sync_status (sync_status, last_synced_at, and the rowid). A cursor is
    // the last row's (sync_status, last_synced_at, id); NULL sorts before every time, so
    // a NULL time and a real one continue the walk differently.
    first: raw(`${PENDING} ORDER BY sync_status, last_synced_at, id LIMIT ?`),
    afterNever: raw(
      `${PENDING} AND (sync_status > @status OR (sync_status = @status AND ` +
        '(last_synced_at IS NOT NULL OR id > @id))) ORDER BY sync_status, last_synced_at, id LIMIT @limit',
    ),
    afterTime: raw(
      `${PENDING} AND (sync_status > @status OR (sync_status = @status AND last_synced_at >= @at AND ` +
        '(last_synced_at > @at OR id > @id))) ORDER BY sync_status, last_synced_at, id LIMIT @limit',
    ),
  },
  run(
    { st },
    [limit, after]: readonly [number, readonly [string, string | null, number] | null],
  ): Page<DocumentEntry> {
    let rows: RawRow[];
    if (after === null) rows = st.first.all(limit + 1) as RawRow[];
    else {
      const [status, at, id] = after;
      rows = (at === null
        ? st.afterNever.all({ status, id, limit: limit + 1 })
        : st.afterTime.all({ status, at, id, limit: limit + 1 })) as RawRow[];
    }
    return toPage(rows, limit, DOCUMENTS.decode, (document) => [document.syncStatus, document.lastSyncedAt, document.id]);
  },
});

export const documentsMarkSynced = defineOperation({
  name: 'documents.markSynced',
  kind: 'write',
  statements: {
    hash: pluck('SELECT content_hash FROM document_index WHERE file_path = ?'),
    mark: raw(
      "UPDATE document_index SET sync_status = 'synced', embedding_blob = @blob, " +
        `embedding_model = coalesce(@model, embedding_model), last_synced_at = ${NOW}, updated_at = ${NOW} ` +
        `WHERE file_path = @filePath RETURNING ${DOCUMENTS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [filePath, embedding, model, contentHash, ctx]: readonly [
      string,
      Float32Array | null,
      string | null,
      string | null,
      AuditContext | undefined,
    ],
  ): DocumentEntry {
    const current = st.hash.get(filePath) as string | undefined;
    if (current === undefined) throw missing(filePath);
    if (contentHash !== null && contentHash !== current) {
      throw new StoreError(
        'CONFLICT',
        `document ${filePath} changed (content hash ${current}) since the embedding was computed from ${contentHash}`,
      );
    }
    const blob = embedding === null ? null : embeddingBlob(embedding);
    const row = st.mark.get({ filePath, blob, model }) as RawRow;
    writeAudit(st.audit, ctx, {
      action: 'document_mark_synced',
      data: { filePath, dimensions: embedding?.length ?? 0, model },
    });
    return DOCUMENTS.decode(row);
  },
});

export const documentsMarkFailed = defineOperation({
  name: 'documents.markFailed',
  kind: 'write',
  statements: {
    mark: raw(
      `UPDATE document_index SET sync_status = 'failed', updated_at = ${NOW} WHERE file_path = ? RETURNING ${DOCUMENTS.columns}`,
    ),
    audit: AUDIT_INSERT,
  },
  run(
    { st },
    [filePath, error, ctx]: readonly [string, string | null, AuditContext | undefined],
  ): DocumentEntry {
    const row = st.mark.get(filePath) as RawRow | undefined;
    if (row === undefined) throw missing(filePath);
    writeAudit(st.audit, ctx, { action: 'document_mark_failed', data: { filePath, error }, result: 'failed' });
    return DOCUMENTS.decode(row);
  },
});

export const documentsDelete = defineOperation({
  name: 'documents.delete',
  kind: 'write',
  statements: {
    delete: pluck('DELETE FROM document_index WHERE file_path = ? RETURNING id'),
    audit: AUDIT_INSERT,
  },
  run({ st }, [filePath, ctx]: readonly [string, AuditContext | undefined]): void {
    if (st.delete.get(filePath) === undefined) throw missing(filePath);
    writeAudit(st.audit, ctx, { action: 'document_delete', data: { filePath } });
  },
});

export const documentOperations = [
  documentsUpsert,
  documentsGet,
  documentsListByType,
  documentsPendingSync,
  documentsMarkSynced,
  documentsMarkFailed,
  documentsDelete,
];
