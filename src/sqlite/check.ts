import type { CheckReport, ForeignKeyViolation, IndexFinding } from '../api/types.js';
import type { Operation } from '../catalogue/operation.js';
import { INDEX_REQUIREMENTS, type IndexColumn, type IndexRequirement } from '../diagnostics/index-requirements.js';
import type { Connection } from './connection.js';
import { explainOperations } from './query-plan.js';
import { SCHEMA_VERSION } from './schema.js';

export type { CheckReport, ForeignKeyViolation, IndexFinding };

interface ExistingIndex {
  name: string;
  unique: boolean;
  columns: (IndexColumn & { collation: string })[];
  where?: string;
}

/** Normalises a partial-index filter for comparison: case and spacing do not matter. */
function normalizeWhere(where: string | undefined): string | undefined {
  return where?.toLowerCase().replace(/\s+/g, '');
}

const describeColumns = (columns: readonly IndexColumn[]): string =>
  columns.map((c) => (c.desc ? `${c.name} DESC` : c.name)).join(', ');

function existingIndexes(db: Connection, table: string): ExistingIndex[] {
  const list = db.prepare('SELECT name, "unique" AS isUnique, partial FROM pragma_index_list(?)').all(table) as {
    name: string;
    isUnique: number;
    partial: number;
  }[];
  const sqlOf = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?").pluck();
  const info = db.prepare('SELECT name, "desc" AS isDesc, coll, "key" AS isKey FROM pragma_index_xinfo(?) ORDER BY seqno');
  return list.map((index) => {
    const columns = (info.all(index.name) as { name: string | null; isDesc: number; coll: string; isKey: number }[])
      .filter((c) => c.isKey === 1)
      .map((c) => ({ name: c.name ?? '<expression>', desc: c.isDesc === 1, collation: c.coll }));
    const sql = index.partial === 1 ? (sqlOf.get(index.name) as string | null) : null;
    const where = sql === null ? undefined : /\bWHERE\b([\s\S]*)$/i.exec(sql)?.[1]?.trim();
    return { name: index.name, unique: index.isUnique === 1, columns, ...(where === undefined ? {} : { where }) };
  });
}

/** The table's INTEGER PRIMARY KEY column, which is its rowid (no separate index). */
function rowidAlias(db: Connection, table: string): string | undefined {
  const pk = db.prepare('SELECT name, type FROM pragma_table_info(?) WHERE pk > 0').all(table) as {
    name: string;
    type: string;
  }[];
  return pk.length === 1 && pk[0]!.type.toUpperCase() === 'INTEGER' ? pk[0]!.name : undefined;
}

/**
 * Whether an index serves a requirement: the same key columns in the same order, each
 * with the same direction (or all reversed: SQLite scans an index either way), binary
 * collation, the same partial filter, and unique if uniqueness is required.
 */
function serves(index: ExistingIndex, requirement: IndexRequirement): boolean {
  const { columns } = requirement;
  if (index.columns.length !== columns.length) return false;
  if (requirement.unique && !index.unique) return false;
  if (normalizeWhere(index.where) !== normalizeWhere(requirement.where)) return false;
  const sameNames = index.columns.every((c, i) => c.name === columns[i]!.name && c.collation === 'BINARY');
  const sameOrder = index.columns.every((c, i) => c.desc === columns[i]!.desc);
  const reversed = index.columns.every((c, i) => c.desc !== columns[i]!.desc);
  return sameNames && (sameOrder || reversed);
}

function findIndex(db: Connection, requirement: IndexRequirement, cache: Map<string, ExistingIndex[]>): IndexFinding {
  let indexes = cache.get(requirement.table);
  if (indexes === undefined) {
    indexes = existingIndexes(db, requirement.table);
    cache.set(requirement.table, indexes);
  }
  const base = {
    requirement: requirement.name,
    table: requirement.table,
    columns: describeColumns(requirement.columns),
    ...(requirement.where === undefined ? {} : { where: requirement.where }),
  };
  const own = indexes.find((index) => index.name === requirement.name);
  if (own !== undefined && serves(own, requirement)) return { ...base, satisfied: true, servedBy: own.name };
  const other = indexes.find((index) => serves(index, requirement));
  if (other !== undefined) return { ...base, satisfied: true, servedBy: other.name };
  const [only] = requirement.columns;
  if (requirement.columns.length === 1 && only !== undefined && rowidAlias(db, requirement.table) === only.name) {
    return { ...base, satisfied: true, servedBy: `${requirement.table} rowid (INTEGER PRIMARY KEY ${only.name})` };
  }
  if (own === undefined) {
    const filter = requirement.where === undefined ? '' : ` WHERE ${requirement.where}`;
    return { ...base, satisfied: false, problem: `missing: no index on ${requirement.table} (${base.columns})${filter}` };
  }
  const differences: string[] = [];
  const ownColumns = describeColumns(own.columns);
  if (ownColumns !== base.columns) differences.push(`is on (${ownColumns}) but must be on (${base.columns})`);
  if (normalizeWhere(own.where) !== normalizeWhere(requirement.where)) {
    const filter = (where: string | undefined): string => (where === undefined ? 'no filter' : `WHERE ${where}`);
    differences.push(`has ${filter(own.where)} but must have ${filter(requirement.where)}`);
  }
  if (requirement.unique && !own.unique) differences.push('must be UNIQUE');
  if (own.columns.some((c) => c.collation !== 'BINARY')) differences.push('must use binary collation');
  const problem = `${own.name} ${differences.join('; ')}`;
  return { ...base, satisfied: false, problem };
}

/** Checks the 33 index requirements against the real indexes. */
export function checkIndexes(db: Connection): IndexFinding[] {
  const cache = new Map<string, ExistingIndex[]>();
  return INDEX_REQUIREMENTS.map((requirement) => findIndex(db, requirement, cache));
}

/**
 * Verifies a database: integrity, foreign keys, WAL, the foreign_keys pragma on this
 * connection, the 33 index requirements and (when given operations) every statement's
 * plan. Reads only.
 */
export function checkDatabase(db: Connection, options: { operations?: readonly Operation[] } = {}): CheckReport {
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  const foreignKeyViolations = db.pragma('foreign_key_check') as ForeignKeyViolation[];
  const journalMode = String(db.pragma('journal_mode', { simple: true }));
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) === 1;
  const schemaVersion = db.pragma('user_version', { simple: true }) as number;
  const indexes = checkIndexes(db);
  const required = new Set(indexes.map((finding) => finding.servedBy));
  const extraIndexes = (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[]
  ).filter((name) => !required.has(name));
  // The catalogue's statements name this version's tables: on another version they would
  // not even prepare, and the version line already fails the check.
  const plans =
    options.operations === undefined || schemaVersion !== SCHEMA_VERSION ? undefined : explainOperations(db, options.operations);
  const indexesSatisfied = indexes.filter((finding) => finding.satisfied).length;
  const ok =
    integrity.length === 1 &&
    integrity[0] === 'ok' &&
    foreignKeyViolations.length === 0 &&
    journalMode === 'wal' &&
    foreignKeys &&
    schemaVersion === SCHEMA_VERSION &&
    indexesSatisfied === indexes.length &&
    (plans ?? []).every((plan) => plan.ok);
  return {
    engine: 'sqlite',
    path: db.name,
    ok,
    schemaVersion,
    expectedSchemaVersion: SCHEMA_VERSION,
    integrity,
    foreignKeyViolations,
    journalMode,
    foreignKeys,
    indexes,
    indexesSatisfied,
    extraIndexes,
    ...(plans === undefined ? {} : { plans }),
  };
}
