import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { tempDir } from './helpers/temp.js';

// Every program in examples/ runs as a user runs it: compiled by `npm run build` into
// dist/examples/, in a Node process of its own, importing `abathur-store` by the
// package's name (resolved through package.json's `exports`, as in a user's project).
// Each must exit 0 with nothing on stderr, print what it did, and remove what it made:
// its temporary directory goes under TMPDIR, a directory of this test's own that must be
// empty afterwards. README.md must link each.

/** Lines each example must print (among others): what it shows, seen done. */
const expected: Record<string, string[]> = {
  'orchestrator-loop': [
    'turn 1: worker-1 "run the test suite", after "release web 1.4": all tests pass on main',
    'turn 2: worker-2 "write the changelog", after "all tests pass on main": changelog written in short bullets',
    'turn 3: worker-3 "tag the release", after "changelog written in short bullets": tagged v1.4.0',
    'plan completed: 3 of 3 subtasks completed',
    'latest checkpoint: iteration 3, done run the test suite, write the changelog, tag the release',
    'session terminated: 5 events, state {"phase":"done","turns":3}',
    'tokens recorded: 5200',
  ],
  'langgraph-graph': [
    'waiting at review: {"question":"Publish this draft?","draft":"Release 1.4 ships (in three words)"}',
    'resumed: write -> review -> publish, approved true',
    'checkpoints of thread post-1, newest first: 3 loop, 2 loop, 1 loop, 0 loop, -1 input',
    'published: {"text":"Release 1.4 ships (in three words)"}',
  ],
  'adk-runner': [
    'assistant: Noted: My favourite colour is teal.',
    'session 1: 2 events, state {"last_reply":"Noted: My favourite colour is teal.","user:name":"Alice"}',
    'assistant: From what you told me before: user: My favourite colour is teal.',
    'session 2: 2 events, user:name Alice',
    "the store: 2 sessions of alice; session 1's log: 1 user, 2 assistant",
  ],
  tracing: [
    'turn: 5 store calls under it',
    '  sessions.create on sqlite: 1 row(s)',
    '  sessions.appendEvent on sqlite: 1 row(s)',
    '  sessions.events on sqlite: 2 row(s)',
    '  sessions.appendEvent on sqlite: error NOT_FOUND',
  ],
};

const examples = readdirSync(join(packageRoot, 'examples'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -'.ts'.length))
  .sort();

describe('examples/', () => {
  it('has the expected output of every example, and README.md links each', () => {
    expect(examples).toEqual(Object.keys(expected).sort());
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
    expect(examples.filter((name) => !readme.includes(`](examples/${name}.ts)`))).toEqual([]);
  });

  it.each(examples)('%s runs against a fresh file, exits 0 and leaves nothing behind', (name) => {
    const program = join(packageRoot, 'dist', 'examples', `${name}.js`);
    expect(existsSync(program), `${program} is missing: run npm run build`).toBe(true);
    const tmp = tempDir();
    const run = spawnSync(process.execPath, [program], {
      cwd: packageRoot,
      env: { ...process.env, TMPDIR: tmp },
      encoding: 'utf8',
      // Killed (signal SIGTERM) before vitest's 60 s: an example that never exits fails
      // here, with what it printed, rather than as a bare timeout.
      timeout: 50_000,
    });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const lines = run.stdout.split('\n');
    for (const line of expected[name]!) expect(lines).toContain(line);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
