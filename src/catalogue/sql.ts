import { StoreError } from '../api/errors.js';

/** The current time as the schema stores it: ISO-8601 UTC with milliseconds. */
export const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/** Runs an insert, turning a primary-key or UNIQUE violation into CONFLICT. */
export function conflictOnDuplicate<T>(message: string, insert: () => T): T {
  try {
    return insert();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
      throw new StoreError('CONFLICT', message, { sqliteCode: code, cause: error });
    }
    throw error;
  }
}
