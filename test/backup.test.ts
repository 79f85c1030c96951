import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminBackup } from '../src/catalogue/admin.js';
import type { RunContext, Statements } from '../src/catalogue/operation.js';
import { tempDir } from './helpers/temp.js';

// The backup operation on its own, with VACUUM INTO failing once the empty file exists
// (a full disk, an I/O error): the half-made copy must not be left behind.

describe('admin.backup', () => {
  it('removes the file it created when VACUUM INTO fails, and rethrows the failure', () => {
    const path = join(tempDir(), 'copy.db');
    const failure = new Error('database or disk is full');
    const vacuumInto = {
      run: (): never => {
        throw failure;
      },
    };
    const context = { st: { vacuumInto } } as unknown as RunContext<Statements>;
    expect(() => adminBackup.run(context, [path, 0o600])).toThrow(failure);
    expect(existsSync(path)).toBe(false);
  });
});
