import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// This module runs from src/ under vitest and from dist/src/ once built. Worker threads
// can only load JavaScript, so both find the workers in the build (dist/workers), which
// `npm test` and `npm start` refresh first.
const here = dirname(fileURLToPath(import.meta.url));
const builtRun = basename(dirname(here)) === 'dist';

/** The package's root directory. */
export const packageRoot = builtRun ? resolve(here, '..', '..') : resolve(here, '..');

/** The version-1 DDL files, applied in name order. */
export const sqlDirectory = join(packageRoot, 'sql');

/** Schema migrations, `NNN_name.sql`, each producing `user_version` NNN. */
export const migrationsDirectory = join(sqlDirectory, 'migrations');

/** Compiled worker entry files. */
export const workerFile = (name: 'reader' | 'writer' | 'checkpointer' | 'backup'): string =>
  join(packageRoot, 'dist', 'workers', `${name}.js`);
