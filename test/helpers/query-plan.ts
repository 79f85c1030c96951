import { explain, planProblems } from '../../src/sqlite/query-plan.js';
import type { Connection } from '../../src/sqlite/connection.js';
import { freshDatabase } from './database.js';
import { populate } from './populate.js';

/** A fresh database filled with realistic rows and ANALYZEd. */
export function populatedDatabase(scale = 1): Connection {
  const db = freshDatabase();
  populate(db, scale);
  return db;
}

/**
 * Runs EXPLAIN QUERY PLAN on a statement and throws, with the whole plan, if it reads a
 * table or index end to end, or sorts in a temporary B-tree.
 */
export function assertIndexedPlan(db: Connection, sql: string, label = sql): string[] {
  const plan = explain(db, sql);
  const { scans, tempBtrees } = planProblems(plan);
  if (scans.length > 0 || tempBtrees.length > 0) {
    throw new Error(`${label} does not use an index cleanly:\n  ${[...scans, ...tempBtrees].join('\n  ')}\nplan:\n  ${plan.join('\n  ')}`);
  }
  return plan;
}
