import { decodeCursor } from '../catalogue/cursor.js';
import {
  documentsDelete,
  documentsGet,
  documentsListByType,
  documentsMarkFailed,
  documentsMarkSynced,
  documentsPendingSync,
  documentsUpsert,
} from '../catalogue/documents.js';
import type { StoreEngine } from '../api/engine.js';
import { invalidArgument } from '../api/errors.js';
import {
  DOCUMENT_TYPES,
  type CallOptions,
  type DocumentEntry,
  type DocumentType,
  type ListOptions,
  type MarkFailedOptions,
  type MarkSyncedOptions,
  type Page,
  type UpsertDocumentInput,
  type WriteOptions,
} from '../api/types.js';
import * as v from '../api/validate.js';

/** The document index: what was indexed for retrieval, and whether its embedding is current. */
export class Documents {
  readonly #engine: StoreEngine;

  /**
   * Each Store makes its own, on its engine: use `store.<service>`.
   *
   * @internal
   */
  constructor(engine: StoreEngine) {
    this.#engine = engine;
  }

  /**
   * Indexes a document or updates its entry. A new document is `pending`; a changed
   * content hash makes an indexed one `stale`.
   *
   * @example
   * await store.documents.upsert({ filePath: 'docs/plan.md', title: 'Plan', documentType: 'plan', contentHash: sha256 });
   */
  upsert(input: UpsertDocumentInput): Promise<DocumentEntry> {
    return this.#engine.call(documentsUpsert, () => {
      const o = v.options('input', input, ['filePath', 'title', 'documentType', 'contentHash', 'chunkCount', 'metadata', 'ctx'] as const, {
        required: ['filePath', 'title', 'contentHash'],
      });
      return [
        v.identifier('filePath', o.filePath),
        v.text('title', o.title, 4096),
        o.documentType === undefined || o.documentType === null ? null : v.oneOf('documentType', o.documentType, DOCUMENT_TYPES),
        v.identifier('contentHash', o.contentHash),
        v.optionalInteger('chunkCount', o.chunkCount, 0, 2 ** 31),
        v.optionalJsonObject('metadata', o.metadata, this.#engine.options.maxPayloadBytes),
        v.auditContext(o.ctx),
      ] as const;
    }, input?.signal);
  }

  /** The document indexed under this path (its embedding included), or `undefined`. */
  get(filePath: string, options?: CallOptions): Promise<DocumentEntry | undefined> {
    return this.#engine.call(documentsGet, () => {
      v.options('options', options, []);
      return [v.identifier('filePath', filePath)] as const;
    }, options?.signal);
  }

  /** Documents of one type, newest first. */
  listByType(documentType: DocumentType, options?: ListOptions): Promise<Page<DocumentEntry>> {
    return this.#engine.call(documentsListByType, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.oneOf('documentType', documentType, DOCUMENT_TYPES),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number]),
      ] as const;
    }, options?.signal);
  }

  /**
   * Documents waiting for an embedding: `pending` first, then `stale`, least recently
   * synced first. A work queue: documents leave it as they are marked synced or failed,
   * so a worker usually reads the first page again; `nextCursor` pages past documents
   * it means to leave for now.
   */
  pendingSync(options?: ListOptions): Promise<Page<DocumentEntry>> {
    return this.#engine.call(documentsPendingSync, () => {
      const o = v.options('options', options, ['limit', 'cursor'] as const);
      return [
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sSn') as [string, string | null, number]),
      ] as const;
    }, options?.signal);
  }

  /** Records a successful sync, with the embedding. */
  markSynced(filePath: string, options?: MarkSyncedOptions): Promise<DocumentEntry> {
    return this.#engine.call(documentsMarkSynced, () => {
      const o = v.options('options', options, ['embedding', 'embeddingModel', 'contentHash', 'ctx'] as const);
      if (o.embedding !== undefined && !(o.embedding instanceof Float32Array)) {
        throw invalidArgument('embedding must be a Float32Array');
      }
      const embedding = o.embedding;
      return [
        v.identifier('filePath', filePath),
        // A view into a larger buffer would send the whole buffer: send just its bytes.
        embedding === undefined ? null : embedding.byteLength === embedding.buffer.byteLength ? embedding : embedding.slice(),
        v.optionalIdentifier('embeddingModel', o.embeddingModel),
        v.optionalIdentifier('contentHash', o.contentHash),
        v.auditContext(o.ctx),
      ] as const;
    }, options?.signal);
  }

  /** Records a failed sync; the error goes to the audit trail. */
  markFailed(filePath: string, options?: MarkFailedOptions): Promise<DocumentEntry> {
    return this.#engine.call(documentsMarkFailed, () => {
      const o = v.options('options', options, ['error', 'ctx'] as const);
      return [v.identifier('filePath', filePath), v.optionalText('error', o.error, 65_536), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }

  /** Removes the document from the index; `NOT_FOUND` when no document has this path. */
  delete(filePath: string, options?: WriteOptions): Promise<void> {
    return this.#engine.call(documentsDelete, () => {
      const o = v.options('options', options, ['ctx'] as const);
      return [v.identifier('filePath', filePath), v.auditContext(o.ctx)] as const;
    }, options?.signal);
  }
}
