import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/cli.js';
import { tempDir } from './helpers/temp.js';

// `pg` is an optional peer: here it is not installed.
vi.mock('pg', () => {
  throw new Error('Cannot find package "pg"');
});

describe('the command line without pg', () => {
  it('migrate --from … --to postgres://… says pg is missing before it announces any copy, and exits 1', async () => {
    const path = join(tempDir(), 'store.db');
    const quiet = { out: () => {}, err: () => {} };
    expect(await main(['init', path], quiet)).toBe(0);
    let out = '';
    let err = '';
    const code = await main(['migrate', '--from', path, '--to', 'postgres://nobody@127.0.0.1:1/none'], {
      out: (text) => (out += `${text}\n`),
      err: (text) => (err += `${text}\n`),
    });
    expect({ code, out }).toEqual({ code: 1, out: '' });
    expect(err).toContain('INVALID_STATE');
    expect(err).toContain('npm install pg');
  });
});
