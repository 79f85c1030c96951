import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const atExit: (() => unknown)[] = [];
process.once('exit', () => {
  for (const fn of atExit.reverse()) fn();
});

/** Runs `fn` when the current test finishes (awaiting it), or at exit when called from a beforeAll hook. */
export function cleanup(fn: () => void | Promise<void>): void {
  try {
    onTestFinished(fn);
  } catch {
    atExit.push(fn);
  }
}

/**
 * Where the run's temporary files go: a directory the global setup makes for the run and
 * removes at its end (test/global-setup.ts), so that what a killed or timed-out test could
 * not remove goes too; the system's temporary directory outside a vitest run.
 */
export function testTmpRoot(): string {
  return process.env.ABATHUR_TEST_TMP ?? tmpdir();
}

/** A fresh directory for this test, removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(testTmpRoot(), 'abathur-test-'));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A database path in a fresh directory (the file does not exist yet). */
export function tempDbPath(name = 'store.db'): string {
  return join(tempDir(), name);
}
