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
    // The engine: executors, the writer and reader thread logic, the queues, the reader
    // channels and the writer client with their restarts, the engine on the caller's side.
    // Left out: threads.ts and the checkpointer's and WAL manager's files (they start
    // real threads or only maintain the WAL; wal-bounded and checkpointer tests cover
    // them), connection and schema (SQL and pragmas, run by every test).
    'src/sqlite/write-executor.ts',
    'src/sqlite/read-executor.ts',
    'src/sqlite/writer-thread.ts',
    'src/sqlite/reader-thread.ts',
    'src/sqlite/protocol.ts',
    'src/sqlite/call-queue.ts',
    'src/sqlite/queue.ts',
    'src/sqlite/read-pool.ts',
    'src/sqlite/reader-channels.ts',
    'src/sqlite/writer-client.ts',
    'src/sqlite/engine.ts',
    'src/api/validate.ts',
    'src/api/errors.ts',
    // The core tables' catalogue. The adapters' catalogue files are left out: LangGraph's
    // (langgraph*.ts) is tested by LangGraph's own checkpoint validation suite
    // (langgraph-validation.test.ts) and ADK's (adk.ts) by the differential test against
    // ADK's in-memory services (adk-differential.test.ts), both through the real threads.
    'src/catalogue/*.ts',
    '!src/catalogue/langgraph*.ts',
    '!src/catalogue/adk.ts',
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
