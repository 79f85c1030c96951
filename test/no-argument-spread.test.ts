import { ESLint, Linter } from 'eslint';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// No spread of an array into a call's arguments anywhere in the library: past about 125,000
// elements (Node 20) such a call throws RangeError, as ADK's stale reload once did with a
// long session's events, after its append had committed. eslint.config.js forbids it with a
// no-restricted-syntax rule; here that rule, read from the config itself, is shown to catch
// planted cases and to hold over every file of src/ and workers/ (without type information,
// so this runs in seconds, not as part of the whole lint).

const root = fileURLToPath(new URL('..', import.meta.url));
type RuleEntry = Linter.RuleEntry;

let rule: RuleEntry;

beforeAll(async () => {
  const eslint = new ESLint({ cwd: root });
  const configs = await Promise.all(['src/index.ts', 'workers/reader.ts'].map((file) => eslint.calculateConfigForFile(join(root, file))));
  const rules = configs.map((config) => (config as { rules: Record<string, RuleEntry> }).rules['no-restricted-syntax']);
  expect(rules[1]).toEqual(rules[0]);
  rule = rules[0]!;
});

/** The rule's findings in `code`; a disable comment does not hide one. */
function violations(code: string, file = 'planted.ts'): Linter.LintMessage[] {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    code,
    [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        linterOptions: { noInlineConfig: true },
        rules: { 'no-restricted-syntax': rule },
      },
    ],
    file,
  );
  expect(messages.filter((m) => m.fatal === true)).toEqual([]);
  return messages.filter((m) => m.ruleId === 'no-restricted-syntax');
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('no spread into call arguments', () => {
  it('is an error in the library’s config, and catches every planted form', () => {
    expect(Array.isArray(rule) ? rule[0] : rule).toBe(2); // 'error', as ESLint normalises it
    const planted = [
      'session.events.splice(0, session.events.length, ...events);',
      'out.push(...texts);',
      'queue.unshift(...items);',
      'const most = Math.max(0, ...rows.map((r) => r.length));',
      'const least = Math.min(...values);',
      'maxChannelVersion(...versions);',
      'statement.all(...params);',
      'const decode = new Function(...names, body);',
    ];
    for (const code of planted) {
      expect(violations(code).map((m) => m.message), code).toEqual([expect.stringContaining('No spread into call arguments')]);
    }
    expect(violations('// eslint-disable-next-line no-restricted-syntax\nout.push(...texts);')).toHaveLength(1);
  });

  it('leaves spreads that put nothing on the stack alone', () => {
    expect(violations('const all = [...a, ...b]; const o = { ...c, d: 1 }; f(a, [...b], { ...c }); const [x, ...rest] = a; function g(...args: number[]) { return args; }')).toEqual([]);
  });

  it('holds over every file of src/ and workers/', () => {
    const found: string[] = [];
    for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'workers'))]) {
      for (const m of violations(readFileSync(file, 'utf8'), file)) found.push(`${relative(root, file)}:${m.line}: ${m.message}`);
    }
    expect(found).toEqual([]);
  });
});
