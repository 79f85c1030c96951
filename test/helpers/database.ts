import { resolveOptions } from '../../src/api/options.js';
import { openWriterConnection, type Connection } from '../../src/sqlite/connection.js';
import { engineConfig } from '../../src/sqlite/engine.js';
import { applySchema } from '../../src/sqlite/schema.js';
import { cleanup, tempDbPath } from './temp.js';

/** A connection set up as the writer sets up its own, on a fresh database with the schema. */
export function freshDatabase(path = tempDbPath()): Connection {
  const db = openWriterConnection(path, engineConfig(resolveOptions({ path })).writer);
  applySchema(db);
  cleanup(() => {
    if (db.open) db.close();
  });
  return db;
}
