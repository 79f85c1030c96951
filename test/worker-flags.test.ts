import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../src/sqlite/exec-argv.js';
import { tempDbPath } from './helpers/temp.js';

// A program given on the command line or on stdin, as an ES module: its flags
// (--input-type, -e) describe its own entry point, and the store's threads must not take them.
const entry = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'src', 'index.js')).href;
const program = (path: string): string => `
import { openStore } from ${JSON.stringify(entry)};
const store = await openStore({ path: ${JSON.stringify(path)}, readers: 2 });
const session = await store.sessions.create({ appName: 'flags', userId: 'u' });
const read = await store.sessions.get(session.id);
await store.close();
console.log(JSON.stringify({ read: read?.appName }));
`;

/** Tries to open a store and prints how it failed, or that it did not. */
const failedOpen = (path: string): string => `
import { openStore } from ${JSON.stringify(entry)};
try {
  const store = await openStore({ path: ${JSON.stringify(path)} });
  await store.close();
  console.log('opened');
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message, cause: error.cause?.message }));
}
`;

function run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

describe('a program run with node --input-type=module', () => {
  it('-e opens a store, writes, reads and closes', async () => {
    const result = await run(['--input-type=module', '-e', program(tempDbPath())]);
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, stdout: '{"read":"flags"}\n' });
  });

  it('from stdin, with a per-thread flag of its own, does too', async () => {
    const result = await run(['--input-type=module', '--no-deprecation'], program(tempDbPath()));
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, stdout: '{"read":"flags"}\n' });
  });
});

describe('a thread that dies before it is ready', () => {
  it('fails openStore with the thread’s own error as cause', async () => {
    const hook = fileURLToPath(new URL('./fixtures/no-worker-threads.mjs', import.meta.url));
    const result = await run(['--import', hook, '--input-type=module', '-e', failedOpen(tempDbPath())]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({
      code: 'WORKER_CRASHED',
      message: 'writer thread exited with code 1: this program allows no worker threads',
      cause: 'this program allows no worker threads',
    });
  });
});

describe("the threads' flags", () => {
  it('are inherited as they are when the parent has no entry-point flag', () => {
    expect(workerExecArgv([])).toBeUndefined();
    expect(workerExecArgv(['--expose-gc', '--conditions=dev', '--max-old-space-size=512'])).toBeUndefined();
  });

  it('are the per-thread ones, without the entry point and its script, when the parent names its entry point', () => {
    expect(workerExecArgv(['--input-type=module', '-e', 'code'])).toEqual([]);
    expect(
      workerExecArgv(['--expose-gc', '--input-type', 'module', '--conditions', 'dev', '-r', './x.cjs', '--title=x', '-e', '--import', '--no-warnings']),
    ).toEqual(['--conditions', 'dev', '-r', './x.cjs', '--no-warnings']);
    expect(workerExecArgv(['-pe', '1 + 1', '--enable-source-maps', '--import=tsx'])).toEqual(['--enable-source-maps', '--import=tsx']);
    expect(workerExecArgv(['-i', '--trace-warnings', '--stack-size=2000'])).toEqual(['--trace-warnings']);
    expect(workerExecArgv(['--check', '--print', 'x'])).toEqual([]);
  });

  it('make a list Node accepts for a worker, where the parent’s whole list would be refused', async () => {
    const parent = ['--expose-gc', '--max-old-space-size=512', '--title=x', '--no-deprecation', '--input-type=module', '-e', 'code'];
    expect(() => new Worker('0', { eval: true, execArgv: parent.slice(0, 4) })).toThrow(expect.objectContaining({ code: 'ERR_WORKER_INVALID_EXEC_ARGV' }));
    const worker = new Worker('0', { eval: true, execArgv: workerExecArgv(parent)! });
    expect(await new Promise((resolve) => worker.once('exit', resolve))).toBe(0);
  });
});
