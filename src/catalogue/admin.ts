// The statement a backup runs. Not an operation: a backup runs on a connection of its own
// (src/sqlite/backup-file.ts), never in a reader's batch, whose one snapshot it would break
// (SQLite refuses VACUUM INTO inside a transaction) and whose other reads it would hold
// for as long as the copy takes.

/** Copies one consistent snapshot of the database into a new, compact file; works on a read-only connection. */
export const BACKUP_INTO = 'VACUUM INTO ?';
