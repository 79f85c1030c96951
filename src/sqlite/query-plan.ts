import type { StatementPlan } from '../api/types.js';
import { specOf, type Operation } from '../catalogue/operation.js';
import type { Connection } from './connection.js';

export type { StatementPlan };

/**
 * The parameters a statement takes, found by scanning its SQL outside string literals,
 * quoted identifiers and comments: positional `?` count, or the names of `@x`/`:x`/`$x`.
 */
export function statementParameters(sql: string): { positional: number; named: string[] } {
  let positional = 0;
  const named = new Set<string>();
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      i = sql.indexOf(close, i + 1);
      if (i < 0) break;
    } else if (c === '-' && sql[i + 1] === '-') {
      i = sql.indexOf('\n', i);
      if (i < 0) break;
    } else if (c === '/' && sql[i + 1] === '*') {
      i = sql.indexOf('*/', i + 2) + 1;
      if (i <= 0) break;
    } else if (c === '?') {
      positional++;
      while (/\d/.test(sql[i + 1] ?? '')) i++;
    } else if ((c === '@' || c === ':' || c === '$') && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      named.add(match[0]);
      i += match[0].length;
    }
  }
  return { positional, named: [...named] };
}

/** `EXPLAIN QUERY PLAN` of a statement, every parameter bound to NULL: the plan's lines. */
export function explain(db: Connection, sql: string): string[] {
  const { positional, named } = statementParameters(sql);
  const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const rows = (
    named.length > 0
      ? statement.all(Object.fromEntries(named.map((name) => [name, null])))
      : statement.all(new Array<null>(positional).fill(null))
  ) as { detail: string }[];
  return rows.map((row) => row.detail);
}

/** The problems a plan can have; see {@link StatementPlan}. */
export type PlanProblems = Pick<StatementPlan, 'scans' | 'tempBtrees' | 'tieSorts'>;

/**
 * Finds full scans and temporary B-trees in a plan. A `SCAN` of a subquery, a
 * constant row or a virtual table (json_each) is not a table scan.
 */
export function planProblems(lines: readonly string[]): PlanProblems {
  const scans = lines.filter(
    (line) => /^SCAN /.test(line) && !/^SCAN (\(|CONSTANT ROW)/.test(line) && !/VIRTUAL TABLE/.test(line),
  );
  const isTieSort = (line: string): boolean => /TEMP B-TREE FOR (LAST TERM|RIGHT PART) OF ORDER BY/.test(line);
  const tempBtrees = lines.filter((line) => line.includes('TEMP B-TREE') && !isTieSort(line));
  const tieSorts = lines.filter(isTieSort);
  return { scans, tempBtrees, tieSorts };
}

/**
 * Plans that are known and accepted, each with its reason. Everything else must use an
 * index and sort nothing.
 */
const PREFIX_AUDIT =
  'audit by namespace prefix reads two index ranges (the namespace, and everything under it) and sorts the ' +
  'matching rows by time; it reads only the audit rows of that prefix, and it is an occasional query, not a hot path';

const LANGGRAPH_SEARCH_ALL =
  'LangGraph store search([]) asks for every item: walks the primary key in (namespace, key) order, stopping at the ' +
  'page when there is no query; a ranked search scores every item by design (exhaustive cosine)';

export const ACCEPTED_PLANS: Readonly<Record<string, string>> = {
  'audit.list.namespacePrefixFirst': PREFIX_AUDIT,
  'audit.list.namespacePrefixNext': PREFIX_AUDIT,
  'langgraph.checkpoint.list.allFirst':
    "LangGraph checkpointer list() across every thread: walks lg_checkpoints_newest from the newest end, in the list's " +
    'order, and stops at the page; LangGraph itself never lists without a thread',
  'langgraph.store.search.all': LANGGRAPH_SEARCH_ALL,
  'langgraph.store.rank.all': LANGGRAPH_SEARCH_ALL,
  'langgraph.store.listNamespaces.first': 'the first namespace of the LangGraph store: one step into the primary key (LIMIT 1)',
};

/** The plan of every statement of every operation, on one connection. */
export function explainOperations(db: Connection, operations: readonly Operation[]): StatementPlan[] {
  const plans: StatementPlan[] = [];
  for (const operation of operations) {
    for (const [statement, source] of Object.entries(operation.statements)) {
      const plan = explain(db, specOf(source).sql);
      const problems = planProblems(plan);
      const accepted = ACCEPTED_PLANS[`${operation.name}.${statement}`];
      const clean = problems.scans.length === 0 && problems.tempBtrees.length === 0;
      plans.push({
        operation: operation.name,
        statement,
        plan,
        ...problems,
        ...(accepted === undefined ? {} : { accepted }),
        ok: clean || accepted !== undefined,
      });
    }
  }
  return plans;
}
