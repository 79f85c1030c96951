import { statSync } from 'node:fs';
import { defineOperation } from './operation.js';

export const adminBackup = defineOperation({
  name: 'admin.backup',
  kind: 'read',
  // VACUUM INTO copies one consistent snapshot into a new, compact file. SQLite refuses
  // it inside a transaction, and it works on a read-only connection.
  transactional: false,
  statements: { vacuumInto: 'VACUUM INTO ?' },
  run({ st }, [path]: readonly [string]): { path: string; bytes: number } {
    st.vacuumInto.run(path);
    return { path, bytes: statSync(path).size };
  },
});

export const adminOperations = [adminBackup];
