// Mutation testing of the core (npm run mutate): the write and read executors, the
// catalogue, the engine's queues and restarts, validation and error mapping, against
// the fast in-process tests (vitest.mutate.config.ts). Score and accepted survivors:
// docs/TESTING.md. The machine is shared: two test processes at most, and incremental,
// so a rerun tests only the mutants whose code or tests changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.ts' },
  coverageAnalysis: 'perTest',
  // Mutants in code that runs once, at module load (the catalogue's SQL text, its
  // statement tables), would each need the whole test set: hours here. A broken
  // statement fails every test that prepares the catalogue anyway.
  ignoreStatic: true,
  mutate: [
    'src/sqlite/write-executor.ts',
    'src/sqlite/read-executor.ts',
    'src/sqlite/writer-thread.ts',
    'src/sqlite/reader-thread.ts',
    'src/sqlite/protocol.ts',
    'src/sqlite/call-queue.ts',
    'src/sqlite/queue.ts',
    'src/sqlite/read-pool.ts',
    'src/sqlite/writer-client.ts',
    'src/sqlite/engine.ts',
    'src/catalogue/*.ts',
    'src/api/validate.ts',
    'src/api/errors.ts',
  ],
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: 80 },
  ignorePatterns: ['dist', 'coverage', 'docs', 'bench-results', 'data', 'reports'],
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
