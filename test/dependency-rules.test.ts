import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The dependency rules of .dependency-cruiser.mjs (run by `npm run lint:deps`) must be able
// to fail. A small tree shaped like src/ gets one planted violation per rule; the cruise
// must report each of them under its rule, and nothing else.

const ROOT = resolve(import.meta.dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.mjs');
const CRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Rules {
  FLOORS: readonly Readonly<Record<string, string>>[];
  default: { forbidden: readonly { name: string }[] };
}
interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** A file that stands in a room: the room's own file, or one inside its folder. */
const fileIn = (path: string, name: string): string => {
  const file = /^\^(.*)\\\.ts\$$/.exec(path);
  return file === null ? `${path.slice(1)}${name}.ts` : `${file[1]}.ts`;
};

const tree = mkdtempSync(join(tmpdir(), 'abathur-deps-'));
afterAll(() => rmSync(tree, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(dirname(join(tree, file)), { recursive: true });
  writeFileSync(join(tree, file), text);
}
const specifier = (from: string, to: string): string => {
  const path = relative(dirname(from), to).replace(/\.ts$/, '.js');
  return path.startsWith('.') ? path : `./${path}`;
};

describe('the dependency rules', () => {
  it('report a planted violation of each rule, and only those', async () => {
    const { FLOORS, default: config } = (await import(pathToFileURL(CONFIG).href)) as Rules;
    const rooms = FLOORS.flatMap((floor, i) => Object.entries(floor).map(([room, path]) => ({ room, path, floor: i })));
    write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
    write('test/helper.ts', 'export const helper = 1;\n');
    write('src/unplaced/room.ts', 'export const unplaced = 1;\n');
    const imports = new Map<string, string[]>();
    const plant = (from: string, to: string, typeOnly = false): void => {
      const line = typeOnly ? `import type * as planted from '${specifier(from, to)}';\nexport type Planted = typeof planted;\n` : `import '${specifier(from, to)}';\n`;
      imports.set(from, [...(imports.get(from) ?? []), line]);
    };
    const expected: string[] = [];
    for (const { room, path, floor } of rooms) {
      // Each room imports a room it may not: the next floor's first, else a neighbour on its
      // own floor, else (the top floor alone) a folder that stands on no floor at all.
      const above = FLOORS[floor + 1];
      const neighbour = Object.values(FLOORS[floor]!).find((other) => other !== path);
      const target = above !== undefined ? fileIn(Object.values(above)[0]!, 'target') : neighbour !== undefined ? fileIn(neighbour, 'target') : 'src/unplaced/room.ts';
      const from = fileIn(path, 'planted');
      plant(from, target, room === 'services');
      expected.push(`room-${room}: ${from} -> ${target}`);
    }
    // A circle inside one room, which no floor rule sees.
    plant('src/catalogue/circle-a.ts', 'src/catalogue/circle-b.ts');
    plant('src/catalogue/circle-b.ts', 'src/catalogue/circle-a.ts');
    // dependency-cruiser names a circle once, by the first arrow it walked into it.
    expected.push('no-circular: src/catalogue/circle-a.ts -> src/catalogue/circle-b.ts');
    plant('src/api/reaches-test.ts', 'test/helper.ts');
    expected.push('library-imports-no-test-or-bench: src/api/reaches-test.ts -> test/helper.ts');
    for (const { path } of rooms) {
      const target = fileIn(path, 'target');
      if (!imports.has(target)) write(target, 'export const target = 1;\n');
    }
    for (const [file, lines] of imports) write(file, `${lines.join('')}export {};\n`);

    const cruise = (...args: string[]) => spawnSync(process.execPath, [CRUISE, 'src', 'workers', '--config', CONFIG, ...args], { cwd: tree, encoding: 'utf8' });
    const run = cruise('--output-type', 'json');
    expect(run.stderr).toBe('');
    const { summary } = JSON.parse(run.stdout) as { summary: { violations: Violation[]; error: number } };
    const found = summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    expect(found).toEqual(expected.sort());
    // Every rule of the configuration was planted, so every rule has been seen to fail.
    expect(new Set(summary.violations.map((v) => v.rule.name))).toEqual(new Set(config.forbidden.map((rule) => rule.name)));
    // As `npm run lint:deps` runs it: the command fails, so `npm test` does.
    const lint = cruise();
    expect(lint.status).toBe(expected.length);
    expect(lint.stdout).toContain(`${expected.length} dependency violations`);
  }, 60_000);
});
