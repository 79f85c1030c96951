import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { tempDir } from './helpers/temp.js';

// The LangGraph packages are optional peer dependencies: the package's main entry and
// its worker threads must run without them. (The build under dist/ is what users load.)

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;

/** Every package a built module reaches through static and literal dynamic imports, following its relative imports. */
function packagesReached(entries: string[]): { packages: Set<string>; modules: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (modules.has(file)) return;
    modules.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  entries.forEach(visit);
  return { packages, modules };
}

const dist = (path: string) => join(packageRoot, 'dist', path);

describe('LangGraph as an optional peer dependency', () => {
  it('is never reached from the main entry or the worker entries', () => {
    const main = packagesReached([dist('src/index.js'), dist('workers/reader.js'), dist('workers/writer.js')]);
    expect(main.modules.size).toBeGreaterThan(20);
    expect([...main.packages].filter((p) => p.startsWith('@langchain/'))).toEqual([]);
    expect(main.modules.has(dist('src/catalogue/langgraph.js'))).toBe(true); // its tables are served by the same workers
    // The walk sees LangGraph where it is imported: the subpath entry.
    const subpath = packagesReached([dist('src/langgraph/index.js')]);
    expect(subpath.packages).toContain('@langchain/langgraph-checkpoint');
  });

  it('is not needed to open a store, write and read, in a process that cannot load it', () => {
    const dir = tempDir();
    const fixture = join(packageRoot, 'test', 'fixtures', 'store-without-langgraph.mjs');
    const run = (args: string[], db: string) =>
      JSON.parse(execFileSync(process.execPath, [...args, fixture, join(dir, db)], { cwd: packageRoot, encoding: 'utf8' })) as {
        value: number;
        langgraph: string;
      };
    const blocked = run(['--import', join(packageRoot, 'test', 'fixtures', 'deny-langchain.mjs')], 'blocked.db');
    expect(blocked.value).toBe(42);
    // The block works: the subpath, which does need LangGraph, fails under it...
    expect(blocked.langgraph).toMatch(/blocked by the test: @langchain\//);
    // ...and loads through the package's exports without it.
    expect(run([], 'free.db').langgraph).toBe('AbathurSaver,AbathurStore');
  });
});
