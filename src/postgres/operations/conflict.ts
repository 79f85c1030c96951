import { StoreError } from '../../api/errors.js';

/** Awaits an insert, turning a primary-key or UNIQUE violation (23505) into CONFLICT. */
export async function conflictOnDuplicate<T>(message: string, insert: Promise<T>): Promise<T> {
  try {
    return await insert;
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') {
      throw new StoreError('CONFLICT', message, { pgCode: '23505', cause: error });
    }
    throw error;
  }
}

/** True for a unique violation (23505). */
export const isUniqueViolation = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === '23505';
