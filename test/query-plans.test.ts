import { beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../src/sqlite/connection.js';
import { operations } from '../src/catalogue/index.js';
import { specOf } from '../src/catalogue/operation.js';
import { ACCEPTED_PLANS, explain, explainOperations, statementParameters } from '../src/sqlite/query-plan.js';
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
    // Accepted only where an exception is written down with its reason.
    expect(plans.filter((plan) => plan.accepted !== undefined).map((p) => `${p.operation}.${p.statement}`).sort()).toEqual(
      Object.keys(ACCEPTED_PLANS).sort(),
    );
  });

  it('fails the statements an index served once it is dropped', () => {
    const db = populatedDatabase(0.2);
    const name = (plan: { operation: string; statement: string }): string => `${plan.operation}.${plan.statement}`;
    // At this small scale a plan or two may differ from the full-size database's; only
    // what the drop changes counts.
    const failingBefore = new Set(explainOperations(db, operations).filter((plan) => !plan.ok).map(name));
    db.exec('DROP INDEX idx_agents_task; ANALYZE');
    const failing = explainOperations(db, operations).filter((plan) => !plan.ok && !failingBefore.has(name(plan)));
    const byTask = failing.find((plan) => name(plan) === 'agents.listByTask.first');
    expect(byTask?.scans.join(' ')).toMatch(/SCAN agents/);
    // Every statement that fails now reads the agents table end to end.
    for (const plan of failing) expect(plan.scans.join(' ')).toMatch(/agents/);
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
