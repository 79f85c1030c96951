import { StoreError } from '../../api/errors.js';
import type { DocumentEntry } from '../../api/types.js';
import { toPage } from '../../catalogue/cursor.js';
import {
  documentsDelete,
  documentsGet,
  documentsListByType,
  documentsMarkFailed,
  documentsMarkSynced,
  documentsPendingSync,
  documentsUpsert,
} from '../../catalogue/documents.js';
import type { RawRow } from '../../catalogue/table.js';
import { DOCUMENTS } from '../../catalogue/tables.js';
import { implement } from '../operation.js';
import { NOW } from './sql.js';

const missing = (filePath: string): StoreError => new StoreError('NOT_FOUND', `document ${filePath} is not indexed`);

export const pgDocumentsUpsert = implement(documentsUpsert, {
  statements: {
    // A changed content hash marks the row stale: its embedding no longer matches. The
    // old hash is read in the same statement (the row is locked by the upsert).
    upsert:
      'WITH old AS (SELECT content_hash FROM document_index WHERE file_path = $1), ' +
      'up AS (INSERT INTO document_index AS d (file_path, title, document_type, content_hash, chunk_count, metadata) ' +
      "VALUES ($1, $2, $3, $4, coalesce($5::int, 1), coalesce($6::jsonb, '{}')) " +
      'ON CONFLICT (file_path) DO UPDATE SET title = excluded.title, document_type = excluded.document_type, ' +
      'content_hash = excluded.content_hash, chunk_count = coalesce($5::int, d.chunk_count), ' +
      'metadata = coalesce($6::jsonb, d.metadata), ' +
      "sync_status = CASE WHEN d.content_hash <> excluded.content_hash THEN 'stale' ELSE d.sync_status END, " +
      `updated_at = ${NOW} RETURNING ${DOCUMENTS.columns}, (xmax = 0) AS inserted) ` +
      'SELECT up.*, (SELECT content_hash FROM old) FROM up',
  },
  async run(q, [filePath, title, documentType, contentHash, chunkCount, metadata, ctx]) {
    const row = (await q.one('upsert', [filePath, title, documentType, contentHash, chunkCount, metadata]))!;
    // After the document's columns: whether the row was inserted, and the hash it had.
    const created = DOCUMENTS.after(row, 0) === true;
    const previousHash = DOCUMENTS.after(row, 1) as string | null;
    await q.audit(ctx, {
      action: 'document_upsert',
      data: { filePath, created, contentChanged: !created && previousHash !== null && previousHash !== contentHash },
    });
    return DOCUMENTS.decode(row);
  },
});

export const pgDocumentsGet = implement(documentsGet, {
  statements: { byPath: `SELECT ${DOCUMENTS.columns} FROM document_index WHERE file_path = $1` },
  async run(q, [filePath]) {
    const row = await q.one('byPath', [filePath]);
    return row === undefined ? undefined : DOCUMENTS.decode(row);
  },
});

export const pgDocumentsListByType = implement(documentsListByType, {
  statements: {
    first: `SELECT ${DOCUMENTS.columns} FROM document_index WHERE document_type = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    next:
      `SELECT ${DOCUMENTS.columns} FROM document_index WHERE document_type = $1 ` +
      'AND (created_at, id) < ($3::timestamptz, $4::bigint) ORDER BY created_at DESC, id DESC LIMIT $2',
  },
  async run(q, [type, limit, after]) {
    const rows = after === null ? await q.all('first', [type, limit + 1]) : await q.all('next', [type, limit + 1, after[0], after[1]]);
    return toPage<RawRow, DocumentEntry>(rows, limit, DOCUMENTS.decode, (document) => [document.createdAt, document.id]);
  },
});

const PENDING = `SELECT ${DOCUMENTS.columns} FROM document_index WHERE sync_status IN ('pending', 'stale')`;
const PENDING_ORDER = 'ORDER BY sync_status, last_synced_at NULLS FIRST, id LIMIT $1';

export const pgDocumentsPendingSync = implement(documentsPendingSync, {
  statements: {
    // A work queue: pending first, then stale, least recently synced first (never-synced
    // documents first of all, as SQLite sorts NULL first), in the order of
    // idx_document_sync_status. A cursor is the last row's (sync_status, last_synced_at,
    // id); a NULL time and a real one continue the walk differently.
    first: `${PENDING} ${PENDING_ORDER}`,
    afterNever:
      `${PENDING} AND (sync_status > $2 OR (sync_status = $2 AND (last_synced_at IS NOT NULL OR id > $3::bigint))) ` + PENDING_ORDER,
    afterTime:
      `${PENDING} AND (sync_status > $2 OR (sync_status = $2 AND last_synced_at >= $3::timestamptz AND ` +
      `(last_synced_at > $3::timestamptz OR id > $4::bigint))) ${PENDING_ORDER}`,
  },
  async run(q, [limit, after]) {
    let rows: RawRow[];
    if (after === null) rows = await q.all('first', [limit + 1]);
    else {
      const [status, at, id] = after;
      rows = at === null ? await q.all('afterNever', [limit + 1, status, id]) : await q.all('afterTime', [limit + 1, status, at, id]);
    }
    return toPage<RawRow, DocumentEntry>(rows, limit, DOCUMENTS.decode, (document) => [
      document.syncStatus,
      document.lastSyncedAt,
      document.id,
    ]);
  },
});

export const pgDocumentsMarkSynced = implement(documentsMarkSynced, {
  statements: {
    // Locked: the hash checked is the one the row keeps until this commits.
    hash: 'SELECT content_hash FROM document_index WHERE file_path = $1 FOR UPDATE',
    mark:
      "UPDATE document_index SET sync_status = 'synced', embedding_blob = $2, " +
      `embedding_model = coalesce($3, embedding_model), last_synced_at = ${NOW}, updated_at = ${NOW} ` +
      `WHERE file_path = $1 RETURNING ${DOCUMENTS.columns}`,
  },
  async run(q, [filePath, embedding, model, contentHash, ctx]) {
    const current = (await q.value('hash', [filePath])) as string | undefined;
    if (current === undefined) throw missing(filePath);
    if (contentHash !== null && contentHash !== current) {
      throw new StoreError(
        'CONFLICT',
        `document ${filePath} changed (content hash ${current}) since the embedding was computed from ${contentHash}`,
      );
    }
    // The Float32Array's own bytes, platform order, as SQLite stores them.
    const blob = embedding === null ? null : Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
    const row = (await q.one('mark', [filePath, blob, model]))!;
    await q.audit(ctx, { action: 'document_mark_synced', data: { filePath, dimensions: embedding?.length ?? 0, model } });
    return DOCUMENTS.decode(row);
  },
});

export const pgDocumentsMarkFailed = implement(documentsMarkFailed, {
  statements: {
    mark: `UPDATE document_index SET sync_status = 'failed', updated_at = ${NOW} WHERE file_path = $1 RETURNING ${DOCUMENTS.columns}`,
  },
  async run(q, [filePath, error, ctx]) {
    const row = await q.one('mark', [filePath]);
    if (row === undefined) throw missing(filePath);
    await q.audit(ctx, { action: 'document_mark_failed', data: { filePath, error }, result: 'failed' });
    return DOCUMENTS.decode(row);
  },
});

export const pgDocumentsDelete = implement(documentsDelete, {
  statements: { delete: 'DELETE FROM document_index WHERE file_path = $1 RETURNING id' },
  async run(q, [filePath, ctx]) {
    if ((await q.one('delete', [filePath])) === undefined) throw missing(filePath);
    await q.audit(ctx, { action: 'document_delete', data: { filePath } });
  },
});

export const pgDocumentOperations = [
  pgDocumentsUpsert,
  pgDocumentsGet,
  pgDocumentsListByType,
  pgDocumentsPendingSync,
  pgDocumentsMarkSynced,
  pgDocumentsMarkFailed,
  pgDocumentsDelete,
];
