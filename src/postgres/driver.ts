import type * as Pg from 'pg';
import { StoreError } from '../api/errors.js';

/** The parts of node-postgres the engine uses. */
export interface PgModule {
  Pool: typeof Pg.Pool;
  Client: typeof Pg.Client;
  DatabaseError: typeof Pg.DatabaseError;
  types: typeof Pg.types;
}

let loaded: Promise<PgModule> | undefined;

/**
 * Loads `pg`, an optional peer dependency, the first time a store is opened on a URL: a
 * store on a SQLite file never loads it, and a user who never asks for PostgreSQL need
 * not install it.
 */
export function loadPg(): Promise<PgModule> {
  loaded ??= import('pg').then(
    (module) => {
      const pg = ((module as { default?: unknown }).default ?? module) as PgModule;
      return { Pool: pg.Pool, Client: pg.Client, DatabaseError: pg.DatabaseError, types: pg.types };
    },
    (error: unknown) => {
      loaded = undefined;
      throw new StoreError(
        'INVALID_STATE',
        'a store on a PostgreSQL url needs the package "pg" (node-postgres), an optional peer dependency: npm install pg',
        { cause: error },
      );
    },
  );
  return loaded;
}

type Parser = (text: string) => unknown;

/**
 * Type parsers for the store's pools, so rows decode as the SQLite engine's do:
 * timestamptz as ISO-8601 UTC strings with milliseconds, json and jsonb as their text
 * (the shared row decoders parse it), int8 (identity ids, counts) as numbers. Set per
 * pool, not globally: other pools in the same process keep node-postgres's defaults.
 */
export function storeTypes(pg: PgModule): Pg.CustomTypesConfig {
  const { builtins } = pg.types;
  const parseTimestamp = pg.types.getTypeParser(builtins.TIMESTAMPTZ) as (text: string) => Date | number;
  const timestamp: Parser = (text) => {
    const date = parseTimestamp(text);
    // ±infinity parse to numbers; keep the server's words for them.
    return date instanceof Date && Number.isFinite(date.getTime()) ? date.toISOString() : text;
  };
  const int8: Parser = (text) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} is beyond JavaScript's safe integers`);
    return n;
  };
  const keepText: Parser = (text) => text;
  const ours = new Map<number, Parser>([
    [builtins.TIMESTAMPTZ, timestamp],
    [builtins.JSONB, keepText],
    [builtins.JSON, keepText],
    [builtins.INT8, int8],
  ]);
  return {
    getTypeParser: (oid, format) => (format === 'binary' ? undefined : ours.get(oid)) ?? (pg.types.getTypeParser(oid, format) as unknown),
  };
}
