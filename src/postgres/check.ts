import type { ClientBase, Pool } from 'pg';
import type { CheckReport, IndexFinding, StatementPlan } from '../api/types.js';
import { INDEX_REQUIREMENTS, type IndexColumn, type IndexRequirement } from '../diagnostics/index-requirements.js';
import { PG_AUDIT_INSERT, type PgImplementation } from './operation.js';
import { postgresSchemaVersion, quoteIdentifier } from './schema.js';

/** One index of the store's schema, as pg_index describes it. */
interface PgIndex {
  table: string;
  name: string;
  unique: boolean;
  valid: boolean;
  columns: (IndexColumn & { nullsFirst: boolean })[];
  /** The partial-index predicate as the server prints it. */
  predicate: string | null;
}

/**
 * The requirements' partial filters as PostgreSQL prints the store's own predicates
 * (pg_get_expr): the SQLite schema's `is_deleted = 0` is a boolean here, and `IN (…)` is
 * printed as `= ANY (ARRAY[…])`. Compared after {@link normalizePredicate}.
 */
const PG_PREDICATES: Readonly<Record<string, string>> = {
  "status IN ('active', 'paused')": "status = ANY (ARRAY['active'::text, 'paused'::text])",
  'project_id IS NOT NULL': 'project_id IS NOT NULL',
  'is_deleted = 0': 'is_deleted = false',
  "memory_type = 'episodic' AND is_deleted = 0": "memory_type = 'episodic'::text AND is_deleted = false",
  'document_type IS NOT NULL': 'document_type IS NOT NULL',
  "sync_status IN ('pending', 'stale')": "sync_status = ANY (ARRAY['pending'::text, 'stale'::text])",
  "status = 'running'": "status = 'running'::text",
  'session_id IS NOT NULL': 'session_id IS NOT NULL',
  'memory_operation_type IS NOT NULL': 'memory_operation_type IS NOT NULL',
  'memory_namespace IS NOT NULL': 'memory_namespace IS NOT NULL',
  'memory_entry_id IS NOT NULL': 'memory_entry_id IS NOT NULL',
};

/** Case, spacing and parentheses do not matter. */
export const normalizePredicate = (predicate: string | null | undefined): string | undefined =>
  predicate == null ? undefined : predicate.toLowerCase().replace(/[\s()]+/g, '');

const unquote = (name: string): string => (name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name);

const INDEXES_SQL = `
SELECT t.relname AS "table", i.relname AS name, ix.indisunique AS "unique", ix.indisvalid AND ix.indisready AS valid,
       pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
       array_agg(pg_get_indexdef(ix.indexrelid, k.n::int, true) ORDER BY k.n) AS columns,
       array_agg(ix.indoption[k.n - 1]::int ORDER BY k.n) AS options
FROM pg_index AS ix
JOIN pg_class AS i ON i.oid = ix.indexrelid
JOIN pg_class AS t ON t.oid = ix.indrelid
JOIN pg_namespace AS ns ON ns.oid = t.relnamespace
CROSS JOIN LATERAL generate_series(1, ix.indnkeyatts) AS k(n)
WHERE ns.nspname = $1
GROUP BY t.relname, i.relname, ix.indisunique, ix.indisvalid, ix.indisready, ix.indpred, ix.indrelid
ORDER BY 1, 2`;

async function schemaIndexes(client: ClientBase, schema: string): Promise<PgIndex[]> {
  const { rows } = await client.query<{
    table: string;
    name: string;
    unique: boolean;
    valid: boolean;
    predicate: string | null;
    columns: string[];
    options: number[];
  }>(INDEXES_SQL, [schema]);
  return rows.map((row) => ({
    table: row.table,
    name: row.name,
    unique: row.unique,
    valid: row.valid,
    predicate: row.predicate,
    // indoption bit 0: DESC; bit 1: NULLS FIRST.
    columns: row.columns.map((column, i) => ({
      name: unquote(column),
      desc: ((row.options[i] ?? 0) & 1) === 1,
      nullsFirst: ((row.options[i] ?? 0) & 2) === 2,
    })),
  }));
}

const describeColumns = (columns: readonly IndexColumn[]): string => columns.map((c) => (c.desc ? `${c.name} DESC` : c.name)).join(', ');

/**
 * Whether an index serves a requirement: it starts with the required key columns in
 * order, each in the required direction (or all reversed: PostgreSQL scans an index
 * either way), has the same partial filter, and is unique where uniqueness is required.
 * Trailing columns (a list's tie-breaker) do not stop it serving.
 */
export function pgServes(index: PgIndex, requirement: IndexRequirement): boolean {
  const { columns } = requirement;
  if (index.table !== requirement.table || index.columns.length < columns.length) return false;
  if (requirement.unique && !(index.unique && index.columns.length === columns.length)) return false;
  const expected = requirement.where === undefined ? undefined : (PG_PREDICATES[requirement.where] ?? requirement.where);
  if (normalizePredicate(index.predicate) !== normalizePredicate(expected)) return false;
  const lead = index.columns.slice(0, columns.length);
  const sameNames = lead.every((c, i) => c.name === columns[i]!.name);
  const sameOrder = lead.every((c, i) => c.desc === columns[i]!.desc);
  const reversed = lead.every((c, i) => c.desc !== columns[i]!.desc);
  return sameNames && (sameOrder || reversed);
}

function findIndex(indexes: readonly PgIndex[], requirement: IndexRequirement): IndexFinding {
  const base = {
    requirement: requirement.name,
    table: requirement.table,
    columns: describeColumns(requirement.columns),
    ...(requirement.where === undefined ? {} : { where: requirement.where }),
  };
  const own = indexes.find((index) => index.name === requirement.name);
  if (own !== undefined && own.valid && pgServes(own, requirement)) return { ...base, satisfied: true, servedBy: own.name };
  const other = indexes.find((index) => index.valid && pgServes(index, requirement));
  if (other !== undefined) return { ...base, satisfied: true, servedBy: other.name };
  if (own === undefined) {
    const filter = requirement.where === undefined ? '' : ` WHERE ${requirement.where}`;
    return { ...base, satisfied: false, problem: `missing: no index on ${requirement.table} (${base.columns})${filter}` };
  }
  const problems: string[] = [];
  if (!own.valid) problems.push('is invalid (a failed CREATE INDEX CONCURRENTLY?): rebuild it with REINDEX');
  const ownColumns = describeColumns(own.columns);
  if (!ownColumns.startsWith(base.columns)) problems.push(`is on (${ownColumns}) but must start with (${base.columns})`);
  const expected = requirement.where === undefined ? undefined : (PG_PREDICATES[requirement.where] ?? requirement.where);
  if (normalizePredicate(own.predicate) !== normalizePredicate(expected)) {
    const filter = (where: string | null | undefined): string => (where == null ? 'no filter' : `WHERE ${where}`);
    problems.push(`has ${filter(own.predicate)} but must have ${filter(expected)}`);
  }
  if (requirement.unique && !own.unique) problems.push('must be UNIQUE');
  return { ...base, satisfied: false, problem: `${own.name} ${problems.join('; ')}` };
}

/** Checks the 33 index requirements against the schema's indexes. */
export function checkPgIndexes(indexes: readonly PgIndex[]): IndexFinding[] {
  return INDEX_REQUIREMENTS.map((requirement) => findIndex(indexes, requirement));
}

/**
 * What the triggers of the migrations run on every matching write, planned with the
 * catalogue's statements: the pending dependents a completion looks for (006, through
 * idx_tasks_pending_dependencies), as abathur_notify_tasks() runs it.
 */
export const PG_TRIGGER_STATEMENTS: readonly { operation: string; statement: string; sql: string }[] = [
  {
    operation: 'tasks_notify trigger',
    statement: 'completionDependents',
    sql: "SELECT DISTINCT agent_type FROM tasks WHERE status = 'pending' AND dependencies <> '[]'::jsonb AND dependencies @> $1::jsonb",
  },
];

interface PlanNode {
  'Node Type': string;
  Strategy?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Sort Key'?: string[];
  'Presorted Key'?: string[];
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

/** Tables at least this big (estimated rows) must not be read end to end. */
const LARGE_TABLE_ROWS = 1000;

/** A plan as lines, one per node, indented by depth. */
function planLines(node: PlanNode, depth = 0, out: string[] = []): string[] {
  let line = node['Node Type'];
  if (node['Index Name'] !== undefined) line += ` using ${node['Index Name']}`;
  if (node['Relation Name'] !== undefined) line += ` on ${node['Relation Name']}`;
  if (node['Sort Key'] !== undefined) line += ` [${node['Sort Key'].join(', ')}]`;
  out.push(`${'  '.repeat(depth)}${line}`);
  for (const child of node.Plans ?? []) planLines(child, depth + 1, out);
  return out;
}

/**
 * Problems in a plan: a sequential scan of a large table, and a sort of many rows (the
 * planner's estimate) that the statement does not return in full. Not problems: a small
 * sort the planner prefers to an index walk, the sort feeding a plain (ungrouped)
 * aggregate such as `jsonb_agg(x ORDER BY y)`, which orders exactly the rows it folds
 * into its result; and an incremental sort, which orders only rows tied on an index's
 * leading columns (reported as a tie sort, as SQLite's `LAST TERM OF ORDER BY` is).
 */
export function pgPlanProblems(plan: PlanNode, tableRows: ReadonlyMap<string, number>): Pick<StatementPlan, 'scans' | 'tempBtrees' | 'tieSorts'> {
  const scans: string[] = [];
  const tempBtrees: string[] = [];
  const tieSorts: string[] = [];
  const visit = (node: PlanNode, parent: PlanNode | undefined): void => {
    const type = node['Node Type'];
    const table = node['Relation Name'];
    const keys = (node['Sort Key'] ?? []).join(', ');
    if (type === 'Seq Scan' && table !== undefined && (tableRows.get(table) ?? 0) >= LARGE_TABLE_ROWS) {
      scans.push(`Seq Scan on ${table} (about ${tableRows.get(table)} rows)`);
    } else if (type === 'Sort' && !(parent?.['Node Type'] === 'Aggregate' && parent.Strategy === 'Plain')) {
      const rows = node.Plans?.[0]?.['Plan Rows'] ?? 0;
      if (rows >= LARGE_TABLE_ROWS) tempBtrees.push(`Sort [${keys}] of about ${rows} rows`);
    } else if (type === 'Incremental Sort') tieSorts.push(`Incremental Sort [${keys}]`);
    for (const child of node.Plans ?? []) visit(child, node);
  };
  visit(plan, undefined);
  return { scans, tempBtrees, tieSorts };
}

/** Plans that are known and accepted on PostgreSQL, each with its reason. */
const PREFIX_AUDIT =
  'audit by namespace prefix reads two index ranges (the namespace, and everything under it) and sorts the ' +
  'matching rows by time; it reads only the audit rows of that prefix, and it is an occasional query, not a hot path';

const RANK_ALL =
  'a ranked LangGraph store search of every item ([] as the prefix) scores every item by design (exhaustive cosine), ' +
  'as on SQLite, and sorts the scored ones for the page';
const ADK_APP_LIST =
  "listSessions of a whole app counts every session of the app (ADK's totalItems): where the app holds a large share " +
  'of the table, the planner counts it by reading the table rather than the index on (app_name, last_update_time)';

export const PG_ACCEPTED_PLANS: Readonly<Record<string, string>> = {
  'audit.list.namespacePrefixFirst': PREFIX_AUDIT,
  'audit.list.namespacePrefixNext': PREFIX_AUDIT,
  'langgraph.store.rank.bestAll': RANK_ALL,
  'langgraph.store.rank.filteredAll': RANK_ALL,
  'adk.sessions.list.appUnordered': ADK_APP_LIST,
  'adk.sessions.list.appAsc': ADK_APP_LIST,
  'adk.sessions.list.appDesc': ADK_APP_LIST,
};

/** The highest $n a statement uses. */
const parameterCount = (sql: string): number => [...sql.matchAll(/\$(\d+)/g)].reduce((most, m) => Math.max(most, Number(m[1])), 0);

/**
 * The generic plan of one statement: the plan a prepared statement falls back to once
 * PostgreSQL judges it no worse than the custom ones, and the only plan that holds for
 * every parameter value. PREPARE + EXPLAIN EXECUTE under force_generic_plan works on
 * every supported server (EXPLAIN (GENERIC_PLAN) needs 16).
 */
async function genericPlan(client: ClientBase, sql: string, name: string): Promise<PlanNode> {
  await client.query(`PREPARE ${name} AS ${sql}`);
  try {
    const n = parameterCount(sql);
    const args = n === 0 ? '' : `(${new Array<string>(n).fill('NULL').join(', ')})`;
    // The pool keeps json as text (the row decoders parse it).
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (FORMAT JSON) EXECUTE ${name}${args}`);
    return (JSON.parse(rows[0]!['QUERY PLAN']) as { Plan: PlanNode }[])[0]!.Plan;
  } finally {
    await client.query(`DEALLOCATE ${name}`);
  }
}

/** The plan of every statement of every implementation, judged against the tables' sizes. */
export async function explainPgStatements(
  client: ClientBase,
  schema: string,
  implementations: readonly PgImplementation[],
): Promise<StatementPlan[]> {
  const { rows: sizes } = await client.query<{ table: string; rows: number }>(
    'SELECT c.relname AS "table", CASE WHEN c.reltuples < 0 THEN c.relpages * 50 ELSE c.reltuples END::float8 AS rows ' +
      "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
    [schema],
  );
  const tableRows = new Map(sizes.map((row) => [row.table, row.rows]));
  const statements: { operation: string; statement: string; sql: string }[] = [
    { operation: 'audit', statement: 'insert', sql: PG_AUDIT_INSERT },
    ...PG_TRIGGER_STATEMENTS,
  ];
  for (const implementation of implementations) {
    for (const [statement, sql] of Object.entries(implementation.statements)) {
      statements.push({ operation: implementation.operation.name, statement, sql });
    }
  }
  const plans: StatementPlan[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
    let n = 0;
    for (const { operation, statement, sql } of statements) {
      // A statement the server cannot plan (a table missing, say) fails alone.
      await client.query('SAVEPOINT plan');
      let plan: PlanNode;
      try {
        plan = await genericPlan(client, sql, `abathur_check_${++n}`);
        await client.query('RELEASE SAVEPOINT plan');
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT plan');
        const problem = `cannot be planned: ${(error as Error).message}`;
        plans.push({ operation, statement, plan: [], scans: [problem], tempBtrees: [], tieSorts: [], ok: false });
        continue;
      }
      const problems = pgPlanProblems(plan, tableRows);
      const accepted = PG_ACCEPTED_PLANS[`${operation}.${statement}`];
      const clean = problems.scans.length === 0 && problems.tempBtrees.length === 0;
      plans.push({
        operation,
        statement,
        plan: planLines(plan),
        ...problems,
        ...(accepted === undefined ? {} : { accepted }),
        ok: clean || accepted !== undefined,
      });
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return plans;
}

/**
 * Verifies a store's PostgreSQL schema: its version, every index valid, every constraint
 * validated, foreign keys enforced on this connection, the 33 index requirements, and the
 * generic plan of every statement the engine runs. Reads only.
 */
export async function checkPostgres(
  pool: Pool,
  options: { location: string; schema: string; implementations: readonly PgImplementation[] },
): Promise<CheckReport> {
  const client = await pool.connect();
  try {
    // A schema the store never set up has no schema_version: version 0, and every check fails.
    const { rows: found } = await client.query<{ table: string | null }>('SELECT to_regclass($1)::text AS "table"', [
      `${quoteIdentifier(options.schema)}.schema_version`,
    ]);
    let schemaVersion = 0;
    if (found[0]?.table != null) {
      const { rows } = await client.query<{ version: number | null }>('SELECT max(version)::int AS version FROM schema_version');
      schemaVersion = rows[0]?.version ?? 0;
    }
    const indexes = await schemaIndexes(client, options.schema);
    const { rows: unvalidated } = await client.query<{ name: string; table: string }>(
      'SELECT con.conname AS name, c.relname AS "table" FROM pg_constraint AS con JOIN pg_class AS c ON c.oid = con.conrelid ' +
        'JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND NOT con.convalidated ORDER BY 2, 1',
      [options.schema],
    );
    const integrity = [
      ...indexes.filter((index) => !index.valid).map((index) => `index ${index.name} on ${index.table} is not valid`),
      ...unvalidated.map((row) => `constraint ${row.name} on ${row.table} is NOT VALID: existing rows were never checked`),
    ];
    // Foreign keys are enforced by triggers, which session_replication_role = replica skips.
    const { rows: roleRows } = await client.query<{ role: string }>("SELECT current_setting('session_replication_role') AS role");
    const foreignKeys = roleRows[0]?.role === 'origin';
    const findings = checkPgIndexes(indexes);
    const required = new Set(findings.map((finding) => finding.servedBy));
    const extraIndexes = indexes
      .filter((index) => !index.name.endsWith('_pkey') && !index.name.endsWith('_key') && !required.has(index.name))
      .map((index) => index.name);
    // Without the store's tables there is nothing to plan.
    const plans = schemaVersion === 0 ? undefined : await explainPgStatements(client, options.schema, options.implementations);
    const indexesSatisfied = findings.filter((finding) => finding.satisfied).length;
    const expectedSchemaVersion = postgresSchemaVersion();
    const ok =
      integrity.length === 0 &&
      foreignKeys &&
      schemaVersion === expectedSchemaVersion &&
      indexesSatisfied === findings.length &&
      (plans ?? []).every((plan) => plan.ok);
    return {
      engine: 'postgres',
      path: options.location,
      ok,
      schemaVersion,
      expectedSchemaVersion,
      integrity: integrity.length === 0 ? ['ok'] : integrity,
      foreignKeyViolations: [],
      journalMode: 'wal',
      foreignKeys,
      indexes: findings,
      indexesSatisfied,
      extraIndexes,
      ...(plans === undefined ? {} : { plans }),
    };
  } finally {
    client.release();
  }
}
