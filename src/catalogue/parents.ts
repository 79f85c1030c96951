import { StoreError } from '../api/errors.js';

// A write that names a row of another table (one of its foreign keys: a checkpoint's
// task, a task's session) fails NOT_FOUND when that row is missing, naming the field and
// the id, on both engines. Each operation declares those fields once, beside its SQL; the
// engine, when the database refuses the write on a foreign key, finds which declared row
// is missing (SQLite: by looking; PostgreSQL: from the violation's own detail).

/** The tables other rows name by id. */
export type ParentTable = 'tasks' | 'sessions';

/** One row a write names in another table, and where its id is in the write's arguments. */
export interface ParentField<A> {
  /** The caller's name for it: `taskId`, `parentTaskId`, `sessionId`. */
  readonly field: string;
  readonly table: ParentTable;
  /** The id the write names (null: none). */
  id(args: A): string | null;
}

const NOUN: Readonly<Record<ParentTable, string>> = { tasks: 'task', sessions: 'session' };

/** The statement that says whether a row of `table` exists. */
export const parentExists = (table: ParentTable): string => `SELECT 1 FROM ${table} WHERE id = ?`;

/** The NOT_FOUND for a missing parent row; `native` keeps the engine's code and the original error. */
export function missingParent(
  field: string,
  table: ParentTable,
  id: string,
  native: { sqliteCode?: string; pgCode?: string; cause?: unknown } = {},
): StoreError {
  return new StoreError('NOT_FOUND', `${field} names ${NOUN[table]} ${id}, which does not exist`, native);
}
