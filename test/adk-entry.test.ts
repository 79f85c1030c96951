import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { tempDbPath } from './helpers/temp.js';

// Importing @google/adk costs about 2 s and 135 MB: only the abathur-store/adk entry may
// load it. A child process runs the built package under a module hook that makes resolving
// @google/adk fail (test/fixtures/forbid-adk-hooks.mjs). Hooks do not reach worker
// threads, so the modules the workers run are imported on the main thread too.

const run = promisify(execFile);
const hooks = pathToFileURL(join(packageRoot, 'test', 'fixtures', 'forbid-adk-hooks.mjs')).href;

/**
 * Runs `code` (top-level await allowed) in a child node. Plain -e, no --input-type: worker
 * threads inherit the parent's execArgv, and --input-type would break their entry files.
 */
async function node(code: string, hooked: boolean): Promise<{ code: number; out: string }> {
  // Registered in the code rather than with --import, which worker threads would inherit.
  const register = hooked ? `require('node:module').register(${JSON.stringify(hooks)});` : '';
  const script = `${register}(async () => {\n${code}\n})().catch((error) => { console.error(error); process.exitCode = 1; });`;
  try {
    const { stdout, stderr } = await run(process.execPath, ['-e', script], { cwd: packageRoot, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

describe('the abathur-store/adk entry', () => {
  it('is the only one that loads @google/adk: the main entry and the worker modules never do', async () => {
    expect(existsSync(join(packageRoot, 'dist', 'src', 'adk', 'index.js'))).toBe(true);
    const path = tempDbPath();
    const main = await node(
      `const { openStore } = await import('abathur-store');
       await import(${JSON.stringify(join(packageRoot, 'dist', 'src', 'sqlite', 'writer-thread.js'))});
       await import(${JSON.stringify(join(packageRoot, 'dist', 'src', 'sqlite', 'reader-thread.js'))});
       const store = await openStore({ path: ${JSON.stringify(path)} });
       const session = await store.sessions.create({ appName: 'a', userId: 'u' });
       console.log((await store.sessions.get(session.id)).appName === 'a' ? 'main entry ok' : 'wrong');
       await store.close();`,
      true,
    );
    expect(main.out, main.out).toContain('main entry ok');
    expect(main.code).toBe(0);
    // The hook does bite: the adk entry under it fails, naming who asked for ADK.
    const adk = await node(`await import('abathur-store/adk');`, true);
    expect(adk.code).not.toBe(0);
    expect(adk.out).toMatch(/forbidden: @google\/adk imported by file:.*dist\/src\/adk\//);
  });

  it('resolves through the package exports to the two services', async () => {
    const adk = await node(
      `const m = await import('abathur-store/adk');
       console.log(Object.keys(m).sort().join(','), typeof m.AbathurSessionService, typeof m.AbathurMemoryService);`,
      false,
    );
    expect(adk.out.trim()).toBe('AbathurMemoryService,AbathurSessionService function function');
    expect(existsSync(join(packageRoot, 'dist', 'src', 'adk', 'index.d.ts'))).toBe(true);
  });
});
