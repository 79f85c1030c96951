import { beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { specOf } from '../src/catalogue/operation.js';
import { ACCEPTED_PLANS, explain, explainOperations, statementParameters } from '../src/diagnostics/query-plan.js';
import { assertIndexedPlan, populatedDatabase } from './helpers/query-plan.js';

describe('the EXPLAIN helper', () => {
  let db: Connection;
  beforeAll(() => {
    db = populatedDatabase();
  });

  it('passes an index lookup', () => {
    const plan = assertIndexedPlan(db, 'SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC');
    expect(plan.join(' ')).toContain('idx_sessions_user_created');
  });

  it('fails on a full table scan', () => {
    expect(() => assertIndexedPlan(db, 'SELECT * FROM sessions WHERE app_name = ?')).toThrow(/SCAN sessions/);
  });

  it('fails on a full scan of an index', () => {
    expect(() => assertIndexedPlan(db, 'SELECT count(*) FROM tasks WHERE agent_type = ?')).toThrow(/SCAN tasks/);
  });

  it('fails on a temp B-tree', () => {
    expect(() => assertIndexedPlan(db, 'SELECT * FROM tasks WHERE status = ? ORDER BY prompt LIMIT 10')).toThrow(
      /TEMP B-TREE/,
    );
  });

  it('binds positional and named parameters, skipping literals and comments', () => {
    expect(statementParameters("SELECT ? , '?', \"@x\" -- ?\n, @a, @a, :b, $c /* @d */")).toEqual({
      positional: 1,
      named: ['a', 'b', 'c'],
    });
  });
});

describe('every catalogue statement', () => {
  it('uses an index and no temp B-tree on a populated, analysed database', () => {
    const db = populatedDatabase();
    const plans = explainOperations(db, operations);
    expect(plans.length).toBe(operations.reduce((sum, op) => sum + Object.keys(op.statements).length, 0));
    const failures = plans.filter((plan) => !plan.ok).map((plan) => `${plan.operation}.${plan.statement}: ${plan.plan.join(' | ')}`);
    expect(failures).toEqual([]);
    // The helper agrees statement by statement, except where an exception is accepted.
    for (const op of operations) {
      for (const [name, source] of Object.entries(op.statements)) {
        if (ACCEPTED_PLANS[`${op.name}.${name}`] === undefined) assertIndexedPlan(db, specOf(source).sql, `${op.name}.${name}`);
      }
    }
  });
});

describe('statements whose plan must name its seek', () => {
  // A SEARCH on a prefix of an index passes the scan check while it may read every row of
  // that prefix: these must seek to the one row they want.
  it('memory.add checks for a live version with one seek, not a read of every version', () => {
    const db = populatedDatabase();
    const add = operations.find((op) => op.name === 'memory.add')!;
    expect(explain(db, specOf(add.statements.live!).sql).join(' ')).toMatch(/\(namespace=\? AND key=\? AND is_deleted=\?\)/);
  });
});
