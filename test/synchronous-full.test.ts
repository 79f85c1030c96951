import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/temp.js';

// What synchronous FULL adds over NORMAL is durability across power loss: in WAL mode
// FULL syncs the WAL at every commit, NORMAL only at checkpoints. A kill -9 cannot tell
// them apart (the OS keeps what was written either way), so instead of killing
// processes this counts the file syncs a store makes: one per commit with FULL, none
// with NORMAL. It needs strace (Linux, ptrace allowed); elsewhere it says why and skips.

const fixture = fileURLToPath(new URL('./fixtures/sequential-writes.mjs', import.meta.url));
const WRITES = 100;

function straceMissing(): string | undefined {
  try {
    execFileSync('strace', ['-qq', '-e', 'trace=none', 'true'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `strace cannot run here (${(error as Error).message.split('\n')[0]})`;
  }
}

/** fsync and fdatasync calls by a store (every thread) that opens, makes WRITES commits and closes. */
function syncsFor(synchronous: 'normal' | 'full'): number {
  const dir = tempDir();
  const trace = join(dir, 'trace');
  execFileSync(
    'strace',
    ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', trace, process.execPath, fixture, join(dir, 'store.db'), synchronous, String(WRITES)],
    { stdio: 'pipe', timeout: 60_000 },
  );
  return readFileSync(trace, 'utf8').split('\n').filter((line) => /\b(fsync|fdatasync)\(/.test(line)).length;
}

describe('synchronous FULL', () => {
  it(`syncs the WAL at every commit (${WRITES} commits), where NORMAL does not`, { timeout: 120_000 }, (context) => {
    const missing = straceMissing();
    if (missing !== undefined) {
      console.log(`skipped: ${missing}`);
      context.skip();
      return;
    }
    const normal = syncsFor('normal');
    const full = syncsFor('full');
    console.log(`file syncs for ${WRITES} commits plus open and close: NORMAL ${normal}, FULL ${full}`);
    // FULL: a sync per commit at least. NORMAL: only the checkpoints' syncs, whose number
    // depends on when the checkpointer thread runs (a handful to twenty here), so the two
    // counts are compared each with its own bound, not by their difference.
    expect(full).toBeGreaterThanOrEqual(WRITES);
    expect(normal).toBeLessThan(WRITES / 4);
  });
});
