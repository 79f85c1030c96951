import { openWriterConnection, type Connection } from '../../src/sqlite/connection.js';
import { applySchema } from '../../src/sqlite/schema.js';
import { cleanup, tempDbPath } from './temp.js';

/** A connection set up as the writer sets up its own, on a fresh database with the schema. */
export function freshDatabase(path = tempDbPath()): Connection {
  const db = openWriterConnection(path, { synchronous: 'normal', busyTimeoutMs: 5000, journalSizeLimit: 8 << 20 });
  applySchema(db);
  cleanup(() => {
    if (db.open) db.close();
  });
  return db;
}
