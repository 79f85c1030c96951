import type { AuditFilter } from '../catalogue/audit.js';
import { auditList } from '../catalogue/audit.js';
import { decodeCursor } from '../catalogue/cursor.js';
import type { StoreEngine } from '../api/engine.js';
import { invalidArgument } from '../api/errors.js';
import { MEMORY_OPERATION_TYPES, type AuditEntry, type AuditQuery, type Page } from '../api/types.js';
import * as v from '../api/validate.js';

/** The audit trail: one row per write, written in the write's own transaction. */
export class Audit {
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
   * Audit entries, newest first, filtered by at most one of taskId, agentId,
   * namespacePrefix or memoryOperation (none: everything).
   *
   * @example
   * const { items } = await store.audit.list({ namespacePrefix: 'user:alice', since: Date.now() - 3_600_000 });
   */
  list(query?: AuditQuery): Promise<Page<AuditEntry>> {
    return this.#engine.call(auditList, () => {
      const o = v.options('query', query, ['taskId', 'agentId', 'namespacePrefix', 'memoryOperation', 'since', 'limit', 'cursor'] as const);
      const given = (['taskId', 'agentId', 'namespacePrefix', 'memoryOperation'] as const).filter((k) => o[k] !== undefined);
      if (given.length > 1) throw invalidArgument(`audit.list takes one filter at a time, got ${given.join(' and ')}`);
      let filter: AuditFilter = { by: 'all' };
      if (o.taskId !== undefined) filter = { by: 'task', value: v.identifier('taskId', o.taskId) };
      else if (o.agentId !== undefined) filter = { by: 'agent', value: v.identifier('agentId', o.agentId) };
      else if (o.namespacePrefix !== undefined) filter = { by: 'namespacePrefix', value: v.namespace('namespacePrefix', o.namespacePrefix) };
      else if (o.memoryOperation !== undefined) {
        filter = { by: 'memoryOperation', value: v.oneOf('memoryOperation', o.memoryOperation, MEMORY_OPERATION_TYPES) };
      }
      return [
        filter,
        o.since === undefined ? null : v.timestamp('since', o.since),
        v.limit(o.limit),
        o.cursor === undefined ? null : (decodeCursor(v.text('cursor', o.cursor), 'sn') as [string, number]),
      ] as const;
    }, query?.signal);
  }
}
