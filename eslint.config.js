// ESLint flat config: typescript-eslint's recommended type-checked rules over the
// sources, tests, benchmarks, examples and thread entries. Where a rule fights a sound
// pattern of this codebase it is turned off or down here, each with its reason, never
// with scattered disable comments.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', 'coverage/', 'reports/', '.stryker-tmp/', 'bench-results/', 'data/'],
  },
  {
    files: ['{src,test,bench,workers,examples}/**/*.{ts,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An async function that does not await is how a promise-returning contract is
      // implemented here: a synchronous throw becomes a rejection (async methods reject,
      // they do not throw), and test fakes stand in for async clients.
      '@typescript-eslint/require-await': 'off',
      // Names and keys are checked for control characters on purpose, to refuse them.
      'no-control-regex': 'off',
      // `const { omitted: _, ...rest } = value` drops a field; `_` marks an unused
      // parameter, as tsc's noUnusedParameters accepts.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
      // Passing on a rejection caught as `unknown` forwards an error, it does not make one.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Spreading an array into a call's arguments puts every element on the stack: past
    // about 125,000 elements (Node 20) the call throws RangeError. Where the caller's data
    // sets the length (a session's events, a query's rows) a long enough history gets
    // there, as ADK's stale reload once did after its append had committed. The library's
    // code loops, reduces, or passes the array itself; test/no-argument-spread.test.ts
    // holds this rule to that.
    files: ['{src,workers}/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression > SpreadElement, NewExpression > SpreadElement',
          message: 'No spread into call arguments: a long array overflows the stack (RangeError). Loop, reduce, or pass the array.',
        },
      ],
    },
  },
  {
    // Rows decode by name, through a table spec's decoder (src/catalogue/table.ts); a
    // statement that returns another shape declares it with defineTable. Reading a row by
    // position, or casting one to a tuple, breaks silently when a column moves.
    files: ['src/catalogue/**/*.ts', 'src/postgres/operations/**/*.ts'],
    ignores: ['src/catalogue/table.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[computed=true][object.name=/^(row|r|found|stored|updated|raw)$/][property.type="Literal"]',
          message: 'A row is read by name: decode it through its table spec (defineTable), not by position.',
        },
        {
          selector: 'TSAsExpression[typeAnnotation.type="TSTupleType"], TSAsExpression > TSUnionType > TSTupleType, TSAsExpression > TSArrayType > TSTupleType',
          message: 'A row is read by name: decode it through its table spec (defineTable), not as a tuple.',
        },
        {
          selector: 'CallExpression > SpreadElement, NewExpression > SpreadElement',
          message: 'No spread into call arguments: a long array overflows the stack (RangeError). Loop, reduce, or pass the array.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest types its asymmetric matchers (expect.stringContaining, expect.any, …)
      // as `any`; an expected object that holds them is the point of toMatchObject.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // Plain JavaScript fixtures (child-process scripts, loader hooks) are outside the
    // TypeScript project: linted without type information, against the globals of the
    // Node that runs them (the one running ESLint).
    files: ['**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly'])),
    },
  },
);
