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

/** A fresh directory for this test, removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-test-'));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A database path in a fresh directory (the file does not exist yet). */
export function tempDbPath(name = 'store.db'): string {
  return join(tempDir(), name);
}
