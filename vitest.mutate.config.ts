import { defineConfig } from 'vitest/config';

// The fast tests StrykerJS runs for every mutant (npm run mutate): those that drive the
// core in-process. Tests that start real threads load the build in dist/, which
// mutation switching does not reach, and the crash and fault suites take minutes.
// Left out as well: the property-based bad-input suite (seconds per test, random
// draws; validate.test.ts checks the same rules directly) and the schema, check and
// plan suites, which test SQL that mutants do not touch.
export default defineConfig({
  test: {
    include: [
      'test/write-executor.test.ts',
      'test/read-executor.test.ts',
      'test/writer-thread.test.ts',
      'test/writer-client.test.ts',
      'test/read-pool.test.ts',
      'test/reader-channels.test.ts',
      'test/engine-start.test.ts',
      'test/reader-nice.test.ts',
      'test/queue.test.ts',
      'test/engine.test.ts',
      'test/wal-manager.test.ts',
      'test/error-codes.test.ts',
      'test/validate.test.ts',
      'test/sessions.test.ts',
      'test/session-events.test.ts',
      'test/payload-limits.test.ts',
      'test/cursor.test.ts',
      'test/table.test.ts',
      'test/backup.test.ts',
      'test/memory.test.ts',
      'test/tasks.test.ts',
      'test/agents.test.ts',
      'test/documents.test.ts',
      'test/checkpoints-state.test.ts',
      'test/audit-metrics.test.ts',
    ],
    // The domain suites run on SQLite only here: the mutants are in SQLite's engine and
    // the shared catalogue, and this run starts no PostgreSQL server (test/helpers/engines.ts).
    env: { ABATHUR_TEST_ENGINES: 'sqlite' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
