import Database from 'better-sqlite3';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot as root } from '../src/paths.js';
import { SCHEMA_VERSION } from '../src/sqlite/schema.js';

// The tarball is the product. This suite packs the package once, installs the tarball
// into an empty project (its dependencies linked from our node_modules: no network),
// and uses it as a user would: TypeScript (strict, skipLibCheck: false) against the
// installed declarations, the program run, the installed command line. It needs the
// build (`npm test` builds first; alone: `npm run build && npx vitest run test/package.test.ts`).
//
// The subpath exports other work adds (`abathur-store/langgraph`, `abathur-store/adk`)
// are covered as they appear: every entry in package.json's `exports` is checked to be
// in the tarball, linted, and imported by the consumer below.

interface Manifest {
  name: string;
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

/** The environment for child npm and node processes: not the outer `npm test`'s npm_* settings. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

let work: string;
let tarball: string;
let packed: string[];
let consumer: string;
let installed: string;

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: childEnv, encoding: 'utf8', timeout: 120_000 });
}

function cli(...args: string[]): SpawnSyncReturns<string> {
  return run(join(consumer, 'node_modules', '.bin', 'abathur-store'), args, consumer);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'abathur-package-'));
  // --ignore-scripts: `npm test` has just built dist/; prepack would rebuild it.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: root,
    env: childEnv,
    encoding: 'utf8',
  });
  const [result] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, result!.filename);
  packed = result!.files.map((file) => file.path).sort();

  consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  const link = (dependency: string): void => {
    mkdirSync(dirname(join(consumer, 'node_modules', dependency)), { recursive: true });
    symlinkSync(join(root, 'node_modules', dependency), join(consumer, 'node_modules', dependency), 'dir');
  };
  // The package's runtime dependencies, where npm will find them installed already.
  for (const dependency of Object.keys(manifest.dependencies)) link(dependency);
  const install = run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], consumer);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`);
  // After the install, which would prune them: Node's types for the TypeScript consumer,
  // and the optional peers (and their types) the subpath exports need, where we have them.
  link('@types/node');
  for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
    for (const name of [peer, `@types/${peer.replace(/^@/, '').replace('/', '__')}`]) {
      if (existsSync(join(root, 'node_modules', name)) && !existsSync(join(consumer, 'node_modules', name))) link(name);
    }
  }
  installed = join(consumer, 'node_modules', manifest.name);
}, 180_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Every file path an `exports` value names, however nested its conditions. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

const strip = (path: string): string => path.replace(/^\.\//, '');

/** The #anchors a Markdown page's headings get where it is read (GitHub, npm): lower case, punctuation dropped, spaces as hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('the tarball', () => {
  it('ships the library, the workers, the SQL, the command line, LICENSE, README, docs and the examples as sources to read; no bench, tests, maps or other sources', () => {
    const allowed = /^(dist\/src\/.+\.(js|d\.ts)|dist\/workers\/[^/]+\.(js|d\.ts)|sql\/.+\.sql|docs\/.+|examples\/[^/]+\.(ts|md)|LICENSE|README\.md|package\.json)$/;
    expect(packed.filter((path) => !allowed.test(path))).toEqual([]);
    for (const required of ['LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/workers/reader.js', 'dist/workers/writer.js', 'dist/workers/checkpointer.js', 'dist/src/cli/bin.js', 'sql/001_memory_tables.sql']) {
      expect(packed).toContain(required);
    }
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    for (const path of packed.filter((p) => p.endsWith('.js'))) {
      expect(readFileSync(join(installed, path), 'utf8'), path).not.toContain('sourceMappingURL');
    }
  });

  it('every link of the README and of the docs it ships leads to a file in the tarball, and every #anchor to a heading', () => {
    const pages = packed.filter((path) => path.endsWith('.md'));
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/PERFORMANCE.md', 'docs/RELIABILITY.md', 'docs/TESTING.md']));
    const dead: string[] = [];
    let links = 0;
    for (const page of pages) {
      const text = readFileSync(join(installed, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        links++;
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const path = file === '' ? page : posix.normalize(posix.join(posix.dirname(page), file));
        const exists = packed.includes(path) || packed.some((shipped) => shipped.startsWith(`${path.replace(/\/$/, '')}/`));
        if (!exists) dead.push(`${page}: ${target!} (no ${path} in the tarball)`);
        else if (anchor !== undefined && !anchorsOf(readFileSync(join(installed, path), 'utf8')).has(anchor)) {
          dead.push(`${page}: ${target!} (no heading #${anchor} in ${path})`);
        }
      }
    }
    expect(links).toBeGreaterThan(20);
    expect(dead).toEqual([]);
  });

  it('holds every file package.json points at: main, types, bin and each export', () => {
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin), ...exportTargets(manifest.exports)].map(strip);
    expect(targets.length).toBeGreaterThan(4);
    expect(targets.filter((target) => !packed.includes(target))).toEqual([]);
    // npm made the command executable.
    expect(statSync(join(installed, strip(manifest.bin['abathur-store']!))).mode & 0o111).not.toBe(0);
  });

  it('publint reports nothing, suggestions included', async () => {
    const buffer = readFileSync(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`)).toEqual([]);
  });

  it('@arethetypeswrong/cli reports nothing (ESM-only profile, .attw.json)', () => {
    const attw = run(join(root, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'json'], root);
    const report = JSON.parse(attw.stdout) as { problems?: Record<string, { resolutionKind?: string }[]> };
    // The esm-only profile ignores the node10 and node16-from-CJS resolutions: the
    // package is ESM (type: module) for Node 20+, and says so.
    const ignored = new Set(['node10', 'node16-cjs']);
    const problems = Object.values(report.problems ?? {})
      .flat()
      .filter((problem) => !ignored.has(problem.resolutionKind ?? ''));
    expect(problems).toEqual([]);
    expect(attw.status, attw.stderr).toBe(0);
  }, 60_000);

  it('its declarations reach only the public modules; only subpath adapters import their optional peers', () => {
    const peers = new Set(Object.keys(manifest.peerDependencies ?? {}));
    const typesOf = (value: unknown): string[] => exportTargets(value).filter((target) => target.endsWith('.d.ts'));
    const entries = Object.entries(manifest.exports).filter(([subpath]) => subpath !== './package.json');
    expect(typesOf(manifest.exports['.'])).toEqual([manifest.types]);
    for (const [subpath, value] of entries) {
      const seen = new Set<string>();
      const external: string[] = [];
      const queue = typesOf(value).map((target) => join(installed, strip(target)));
      expect(queue.length, `${subpath} has types`).toBeGreaterThan(0);
      while (queue.length > 0) {
        const file = queue.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const text = readFileSync(file, 'utf8');
        for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
          if (specifier!.startsWith('.')) queue.push(resolve(dirname(file), specifier!.replace(/\.js$/, '.d.ts')));
          else external.push(specifier!);
        }
      }
      const reached = [...seen].map((file) => relative(join(installed, 'dist', 'src'), file)).sort();
      // No engine, catalogue, diagnostics or CLI module: their declarations name better-sqlite3.
      expect(reached.filter((file) => /^(sqlite|catalogue|diagnostics|cli)\//.test(file)), subpath).toEqual([]);
      if (subpath === '.') {
        expect(external, subpath).toEqual([]);
        expect(reached.filter((file) => !/^(index|store|api\/(types|errors|engine|change-feed)|services\/[a-z-]+)\.d\.ts$/.test(file))).toEqual([]);
        expect(reached).toContain('api/types.d.ts');
      } else {
        // An adapter may name its framework's types: an optional peer dependency, never another package.
        const root = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
        expect(external.filter((specifier) => !peers.has(root(specifier))), subpath).toEqual([]);
      }
    }
  });
});

// ---- A TypeScript consumer, and every README code block, against the installed types ----

const CONSUMER = `
import { openStore, StoreError } from 'abathur-store';
import type { ErrorCode, JsonValue, MemoryEntry, Page, DocumentEntry, Session, Store, StoreOptions } from 'abathur-store';
// @ts-expect-error the engine is not part of the public surface
import type { Engine } from 'abathur-store';

interface Prefs {
  theme: string;
  fontSize: number;
}
type SessionState = { step: number };

const options: StoreOptions = { path: process.argv[2]!, readers: 1 };
const store: Store = await openStore(options);
try {
  const created = await store.sessions.create({ appName: 'consumer', userId: 'alice', state: { step: 1 } });
  await store.sessions.appendEvent(created.id, { role: 'user', text: 'hello' }, { stateDelta: { step: 2 } });
  const session: Session<SessionState> | undefined = await store.sessions.get<SessionState>(created.id);
  const step: number | undefined = session?.state.step;

  await store.memory.add({ namespace: 'user:alice:prefs', key: 'ui', value: { theme: 'dark', fontSize: 14 }, type: 'semantic' });
  const prefs: MemoryEntry<Prefs> | undefined = await store.memory.get<Prefs>('user:alice:prefs', 'ui');
  const theme: string | undefined = prefs?.value.theme;
  const untyped: JsonValue | undefined = (await store.memory.get('user:alice:prefs', 'ui'))?.value;

  const pending: Page<DocumentEntry> = await store.documents.pendingSync({ limit: 10 });

  // The codes a caller may retry on are in the published union.
  const retryable: readonly ErrorCode[] = ['BUSY', 'TIMEOUT', 'OVERLOADED'];
  let conflict: ErrorCode | undefined;
  try {
    await store.memory.add({ namespace: 'user:alice:prefs', key: 'ui', value: 1, type: 'semantic' });
  } catch (error) {
    if (error instanceof StoreError) conflict = error.code;
  }
  const aborted = await store.memory
    .get('user:alice:prefs', 'ui', { signal: AbortSignal.abort() })
    .then(() => 'ran', (error: unknown) => (error instanceof StoreError ? error.code : 'other'));
  // Every subpath export loads (the adapters, once they are in the exports map).
  const subpaths: Record<string, string[]> = {};
  for (const subpath of SUBPATHS) subpaths[subpath] = Object.keys((await import(subpath)) as object);
  // Nothing internal is reachable from outside the package.
  const internal = await import('abathur-store/dist/src/store.js' as string).then(() => 'imported', (error: { code?: string }) => error.code);

  console.log(JSON.stringify({ step, theme, untyped, pending: pending.items.length, conflict, aborted, retryable, internal, readers: store.stats().readers, subpaths }));
} finally {
  await store.close();
}
`;

/** Names a README block may use without declaring them: the state the README's prose sets up. */
const README_CONTEXT = `
import type { DocumentEntry, Session, Store, Task } from 'abathur-store';
import type { BaseCheckpointSaver, BaseStore } from '@langchain/langgraph-checkpoint';
declare global {
  const store: Store;
  const s: Session;
  const task: Task;
  const contentHash: string;
  function embed(document: DocumentEntry): Promise<Float32Array>;
  // The LangGraph.js section's StateGraph builder and graph input, as far as the example uses them.
  const builder: {
    compile(options: { checkpointer?: BaseCheckpointSaver<number>; store?: BaseStore }): {
      invoke(input: unknown, config?: { configurable?: Record<string, unknown> }): Promise<unknown>;
    };
  };
  const input: Record<string, unknown>;
}
export {};
`;

interface Block {
  line: number;
  file: string;
  code: string;
}

/**
 * README blocks compiled but not run: they need what an empty project does not have (a
 * Gemini model for ADK's Runner, the caller's LangGraph `builder` and `input`, a PostgreSQL
 * server).
 */
const COMPILE_ONLY = /from '(@google\/adk|abathur-store\/langgraph)'|openStore\(\{ url:/;

/**
 * Runs one README block as a program of its own, after setting up the names the README's
 * prose lets a block use undeclared (README_CONTEXT), on a store of the runner's.
 */
const README_RUNNER = `
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { openStore } from 'abathur-store';

const [block, path] = process.argv.slice(2);
const store = await openStore({ path, readers: 1 });
try {
  const s = await store.sessions.create({ appName: 'planner', userId: 'alice' });
  const task = await store.tasks.create({ prompt: 'the task the README names', inputData: {} });
  Object.assign(globalThis, {
    store,
    s,
    task,
    contentHash: createHash('sha256').update('docs/design.md').digest('hex'),
    embed: async () => new Float32Array([0.25, 0.5, 0.75]),
  });
  await import(pathToFileURL(block).href);
} finally {
  await store.close();
}
`;

describe('from TypeScript', () => {
  let blocks: Block[];
  let diagnostics: string[];
  let project: string;

  beforeAll(() => {
    project = join(consumer, 'ts');
    mkdirSync(project);
    // The subpath exports, as specifiers: the consumer imports each (types and module).
    const subpaths = Object.keys(manifest.exports)
      .filter((subpath) => subpath !== '.' && subpath !== './package.json')
      .map((subpath) => `${manifest.name}/${subpath.slice(2)}`);
    const typeImports = subpaths.map((specifier, i) => `import type * as Subpath${i} from '${specifier}';\nexport type { Subpath${i} };\n`).join('');
    writeFileSync(join(project, 'consumer.mts'), `${typeImports}const SUBPATHS: string[] = ${JSON.stringify(subpaths)};\n${CONSUMER}`);
    writeFileSync(join(project, 'readme-context.d.ts'), README_CONTEXT);
    // Every ```ts block of the README the package ships, as its own module.
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    blocks = [];
    for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      const line = readme.slice(0, match.index).split('\n').length + 1;
      const file = `readme-line-${line}.mts`;
      writeFileSync(join(project, file), match[1]!);
      blocks.push({ line, file, code: match[1]! });
    }
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          noEmitOnError: false,
          outDir: 'out',
        },
        include: ['*.mts', '*.d.ts'],
      }),
    );
    const tsc = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--pretty', 'false'], project);
    diagnostics = `${tsc.stdout}${tsc.stderr}`.split('\n').filter((line) => line.trim() !== '');
  }, 120_000);

  it('a strict consumer (skipLibCheck: false) compiles against the installed declarations', () => {
    // Errors inside another package's own declarations are that package's: @google/adk's
    // (abathur-store/adk's peer) name packages it does not install (express, openapi-types,
    // the MCP SDK) and DOM types, for every program that imports ADK without skipLibCheck.
    const foreign = (line: string): boolean => /node_modules\/(?!abathur-store\/)[^(]*\.d\.ts\(/.test(line);
    expect(diagnostics.filter((line) => !line.startsWith('readme-line-') && !foreign(line))).toEqual([]);
  });

  it('the README says what npm needs allowed (each runtime dependency with an install script) and why ADK needs skipLibCheck', () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    // npm 11 asks about, and npm 12 skips, the install script of every dependency nobody allowed.
    const scripted = Object.keys(manifest.dependencies).filter((dependency) => {
      const { scripts = {} } = JSON.parse(readFileSync(join(root, 'node_modules', dependency, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      return ['preinstall', 'install', 'postinstall'].some((hook) => scripts[hook] !== undefined);
    });
    expect(scripted).toContain('better-sqlite3');
    const example = readme.includes('allowScripts') ? /^```json\n([\s\S]*?)^```$/m.exec(readme.slice(readme.indexOf('allowScripts'))) : null;
    expect(example, 'the README shows an allowScripts block').not.toBeNull();
    const allowed = (JSON.parse(example![1]!) as { allowScripts: Record<string, boolean> }).allowScripts;
    for (const dependency of scripted) expect(allowed[dependency], dependency).toBe(true);
    // The README's claim: our declarations compile under skipLibCheck: false, @google/adk's do not.
    const adkOwn = diagnostics.filter((line) => /node_modules\/@google\/adk\//.test(line));
    expect(adkOwn.length).toBeGreaterThan(0);
    const adkSection = readme.slice(readme.indexOf('\n## ADK'), readme.indexOf('\n## ', readme.indexOf('\n## ADK') + 1));
    expect(adkSection).toContain('compiles with `skipLibCheck: true`');
  });

  it('every ```ts block of the README compiles against them too', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const failing = diagnostics.filter((line) => line.startsWith('readme-line-'));
    // readme-line-N.mts(l,c): the block that starts at README line N.
    expect(failing).toEqual([]);
  });

  it('runs every ```ts block of the README as written, each a program that exits 0 (but the three COMPILE_ONLY ones)', () => {
    // Every block starts in one directory that is empty at first: the first example's
    // './data/abathur.db' and the store example's './backups/…' are made there.
    const cwd = join(consumer, 'readme-run');
    mkdirSync(cwd);
    const runner = join(consumer, 'readme-runner.mjs');
    writeFileSync(runner, README_RUNNER);
    const context = join(consumer, 'readme-context', 'store.db');
    mkdirSync(dirname(context));
    const ran: number[] = [];
    const compiledOnly: number[] = [];
    for (const block of blocks) {
      if (COMPILE_ONLY.test(block.code)) {
        compiledOnly.push(block.line);
        continue;
      }
      const program = join(project, 'out', block.file.replace(/\.mts$/, '.mjs'));
      const result = run(process.execPath, [runner, program, context], cwd);
      // readme-line-N: the block that starts at README line N.
      expect({ block: block.file, status: result.status, stderr: result.stderr }).toEqual({ block: block.file, status: 0, stderr: '' });
      ran.push(block.line);
    }
    expect(compiledOnly).toHaveLength(3);
    expect(ran.length).toBeGreaterThanOrEqual(10);
    expect(statSync(join(cwd, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(join(cwd, 'data', 'abathur.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(cwd, 'backups')).mode & 0o777).toBe(0o700);
  }, 180_000);

  it('the first example, copied, hides no error: a write that fails makes it fail', () => {
    const first = blocks.find((block) => block.code.includes("openStore({ path: './data/abathur.db' })"));
    expect(first).toBeDefined();
    const cwd = join(consumer, 'readme-failing');
    const path = join(cwd, 'data', 'abathur.db');
    mkdirSync(dirname(path), { recursive: true });
    expect(cli('init', path).status).toBe(0);
    // A store whose event log refuses every append: the example's appendEvent rejects.
    const db = new Database(path);
    db.exec("CREATE TRIGGER refuse_events BEFORE INSERT ON session_events BEGIN SELECT RAISE(ABORT, 'planted failure'); END");
    db.close();
    const result = run(process.execPath, [join(project, 'out', first!.file.replace(/\.mts$/, '.mjs'))], cwd);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('planted failure');
  });

  it('runs: opens a store, writes, reads typed values, closes', () => {
    const path = join(consumer, 'data', 'consumer.db');
    mkdirSync(dirname(path), { recursive: true });
    const result = run(process.execPath, [join(consumer, 'ts', 'out', 'consumer.mjs'), path], consumer);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      step: 2,
      theme: 'dark',
      untyped: { theme: 'dark', fontSize: 14 },
      pending: 0,
      conflict: 'CONFLICT',
      aborted: 'ABORTED',
      retryable: ['BUSY', 'TIMEOUT', 'OVERLOADED'],
      internal: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      readers: 1,
      subpaths: expect.any(Object),
    });
    const loaded = (JSON.parse(result.stdout) as { subpaths: Record<string, string[]> }).subpaths;
    for (const [subpath, names] of Object.entries(loaded)) expect(names.length, `${subpath} exports something`).toBeGreaterThan(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('from the command line', () => {
  it('--version prints the version; no command is a usage error (2)', () => {
    expect(cli('--version')).toMatchObject({ status: 0, stdout: `${manifest.version}\n` });
    const none = cli();
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('usage: abathur-store');
  });

  it('init creates an owner-only database; check passes (0), also as JSON', () => {
    const path = join(consumer, 'cli', 'store.db');
    expect(cli('init', path)).toMatchObject({ status: 0, stdout: `initialised ${path} (schema version ${SCHEMA_VERSION})\n`, stderr: '' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const check = cli('check', path);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('result: ok');
    const json = JSON.parse(cli('check', path, '--json').stdout) as { ok: boolean; indexesSatisfied: number };
    expect(json).toMatchObject({ ok: true, indexesSatisfied: 33 });
  });

  it('check exits 1 on a file it cannot verify', () => {
    const path = join(consumer, 'cli', 'not-a-database.db');
    writeFileSync(path, 'this is not SQLite, only text long enough to have a header');
    const check = cli('check', path);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('CORRUPT');
  });

  it('runs the README’s command-line examples as written, each exiting 0 (but those with a … placeholder, and the 20 s demo)', () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const lines = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((block) => block[1]!.split('\n')).filter((line) => line.startsWith('npx abathur-store '));
    const runnable = lines.filter((line) => !line.includes('…') && !/ demo\b/.test(line));
    expect(runnable.length).toBeGreaterThanOrEqual(6);
    const cwd = join(consumer, 'readme-cli');
    mkdirSync(cwd);
    for (const line of runnable) {
      const args = line.replace(/#.*$/, '').trim().split(/\s+/).slice(2);
      const result = run(join(consumer, 'node_modules', '.bin', 'abathur-store'), args, cwd);
      expect({ line, status: result.status, stderr: result.stderr }).toEqual({ line, status: 0, stderr: '' });
    }
    expect(statSync(join(cwd, 'data')).mode & 0o777).toBe(0o700);
  });

  it('bench says where the benchmark is (a program of its own, not in the package), and exits 2, rather than crashing', () => {
    const bench = cli('bench');
    expect(bench.status).toBe(2);
    expect(bench.stderr).toContain('the benchmark is a program of its own');
    expect(bench.stderr).toContain('npm run bench');
    expect(bench.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  });
});
