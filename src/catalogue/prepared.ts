import type { Statement } from 'better-sqlite3';
import { StoreError } from '../api/errors.js';
import { specOf, type Connection, type Operation, type OperationKind, type RunContext, type Statements } from './operation.js';

/** One operation bound to one connection, its statements prepared. */
export interface BoundOperation {
  readonly operation: Operation;
  readonly context: RunContext<Statements>;
}

/**
 * The catalogue prepared on one connection: every statement of the operations this
 * connection serves, prepared once at start. Each operation owns its statements (a
 * statement's mode, such as `pluck`, is its own), even where two share SQL text.
 */
export class PreparedCatalogue {
  readonly db: Connection;
  readonly #byName = new Map<string, BoundOperation>();

  constructor(db: Connection, operations: readonly Operation[], kinds: readonly OperationKind[]) {
    this.db = db;
    for (const operation of operations) {
      if (!kinds.includes(operation.kind)) continue;
      const st: Record<string, Statement> = {};
      for (const [key, source] of Object.entries(operation.statements)) {
        const { sql, mode } = specOf(source);
        const statement = db.prepare(sql);
        if (mode === 'raw') statement.raw(true);
        else if (mode === 'pluck') statement.pluck(true);
        st[key] = statement;
      }
      this.#byName.set(operation.name, { operation, context: { st, db } });
    }
  }

  get(name: string): BoundOperation {
    const bound = this.#byName.get(name);
    if (bound === undefined) {
      // The facade sends only catalogue names: an unknown one is the store's defect.
      throw new StoreError('INTERNAL', `unknown operation "${name}" for this connection`);
    }
    return bound;
  }
}
