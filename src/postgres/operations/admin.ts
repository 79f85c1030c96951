import { StoreError } from '../../api/errors.js';
import { adminBackup } from '../../catalogue/admin.js';
import { implement } from '../operation.js';

export const pgAdminBackup = implement(adminBackup, {
  statements: {},
  async run(_q, [path]) {
    throw new StoreError(
      'INVALID_STATE',
      `backup(${path}) copies a SQLite file; a store on PostgreSQL is backed up with the server's own tools (pg_dump, base backups and WAL archiving)`,
    );
  },
});

export const pgAdminOperations = [pgAdminBackup];
