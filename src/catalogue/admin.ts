import { rmSync, statSync } from 'node:fs';
import { createFileWithMode } from '../sqlite/files.js';
import { defineOperation } from './operation.js';

export const adminBackup = defineOperation({
  name: 'admin.backup',
  kind: 'read',
  // VACUUM INTO copies one consistent snapshot into a new, compact file. SQLite refuses
  // it inside a transaction, and it works on a read-only connection.
  transactional: false,
  statements: { vacuumInto: 'VACUUM INTO ?' },
  run({ st }, [path, mode]: readonly [string, number]): { path: string; bytes: number } {
    // VACUUM INTO accepts an empty file: creating it first gives the copy the store's
    // file mode (owner-only by default) rather than SQLite's 0644 less the umask.
    createFileWithMode(path, mode);
    try {
      st.vacuumInto.run(path);
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
    return { path, bytes: statSync(path).size };
  },
});

export const adminOperations = [adminBackup];
