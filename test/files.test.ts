import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store.js';
import { fileHash, siblings } from './helpers/files.js';
import { withTmpfs } from './helpers/mounts.js';
import { tempDbPath, tempDir } from './helpers/temp.js';

/** openStore must refuse `path` with `code`, naming it, and leave it and its directory as they were. */
async function expectRefused(path: string, code: string): Promise<void> {
  const hash = fileHash(path);
  const files = siblings(path);
  await expect(openStore({ path })).rejects.toMatchObject({ code, message: expect.stringContaining(path) });
  expect(fileHash(path)).toBe(hash);
  expect(siblings(path)).toEqual(files);
}

async function storeFile(): Promise<string> {
  const path = tempDbPath('source.db');
  const store = await openStore({ path });
  for (let i = 0; i < 100; i++) await store.sessions.create({ appName: 'a', userId: 'u', state: { pad: 'x'.repeat(300) } });
  await store.close();
  return path;
}

describe('opening files that are not usable stores', () => {
  it('garbage: CORRUPT, untouched', async () => {
    const path = tempDbPath('garbage.db');
    writeFileSync(path, randomBytes(16_384));
    await expectRefused(path, 'CORRUPT');
  });

  it('a store truncated inside its header: CORRUPT, untouched', async () => {
    const path = join(tempDir(), 'cut.db');
    writeFileSync(path, readFileSync(await storeFile()).subarray(0, 50));
    await expectRefused(path, 'CORRUPT');
  });

  it('a store truncated to a third of its pages: refused or failing its check, untouched', async () => {
    const path = join(tempDir(), 'cut.db');
    const bytes = readFileSync(await storeFile());
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const hash = fileHash(path);
    const outcome = await openStore({ path }).then(
      async (store) => {
        const report = await store.check();
        await store.close();
        return report.ok ? 'opened and passed' : 'check failed';
      },
      (error: { code: string }) => error.code,
    );
    expect(['CORRUPT', 'check failed']).toContain(outcome);
    if (outcome === 'CORRUPT') expect(fileHash(path)).toBe(hash);
  });

  it('a directory: IO_ERROR', async () => {
    const path = join(tempDir(), 'dir.db');
    mkdirSync(path);
    await expectRefused(path, 'IO_ERROR');
  });

  it('a read-only location: IO_ERROR, untouched', (context) =>
    withTmpfs(context, 4 << 20, async (mount) => {
      const path = join(mount.dir, 'store.db');
      const store = await openStore({ path });
      await store.sessions.create({ appName: 'a', userId: 'u' });
      await store.close();
      mount.remount('ro');
      await expectRefused(path, 'IO_ERROR');
      await expectRefused(join(mount.dir, 'new.db'), 'IO_ERROR');
    }));
});

describe('full disk', () => {
  it('writes reject with IO_ERROR, nothing committed is lost, writes resume once space frees', { timeout: 120_000 }, (context) =>
    withTmpfs(context, 8 << 20, async (mount) => {
      const path = join(mount.dir, 'store.db');
      const store = await openStore({ path });
      const session = await store.sessions.create({ id: 'full', appName: 'a', userId: 'u' });
      // Leave about a megabyte free.
      const filler = join(mount.dir, 'filler');
      writeFileSync(filler, Buffer.alloc(5 << 20));
      const committed: number[] = [];
      const failures: { code?: string; sqliteCode?: string }[] = [];
      const labels = { pad: 'x'.repeat(2000) };
      for (let round = 0; failures.length < 20 && round < 2000; round++) {
        const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => store.metrics.record('fill', round * 16 + i, { labels })));
        for (const r of results) {
          if (r.status === 'fulfilled') committed.push(r.value.id);
          else failures.push(r.reason as { code?: string; sqliteCode?: string });
        }
      }
      expect(committed.length).toBeGreaterThan(0);
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) {
        expect(failure.code).toBe('IO_ERROR');
        expect(failure.sqliteCode).toMatch(/^SQLITE_(FULL|IOERR)/);
      }
      // Reads go on while the disk is full.
      expect((await store.sessions.get(session.id))?.id).toBe('full');

      rmSync(filler);
      const after = await store.metrics.record('fill', 1, { labels });
      expect(after.id).toBeGreaterThan(0);
      await store.sessions.appendEvent(session.id, { after: 'space freed' });

      const report = await store.check();
      expect(report.integrity).toEqual(['ok']);
      expect(report.ok).toBe(true);
      await store.close();

      const reopened = await openStore({ path });
      try {
        const stored = new Set<number>();
        let cursor: string | undefined;
        do {
          const page = await reopened.metrics.query({ name: 'fill', limit: 1000, ...(cursor ? { cursor } : {}) });
          for (const m of page.items) stored.add(m.id);
          cursor = page.nextCursor;
        } while (cursor);
        expect(committed.filter((id) => !stored.has(id))).toEqual([]);
        expect((await reopened.sessions.get('full'))?.events).toEqual([{ after: 'space freed' }]);
        console.log(`full disk: ${committed.length} writes committed before the disk filled, ${failures.length} refused with IO_ERROR, all committed ones present after reopening`);
      } finally {
        await reopened.close();
      }
    }));
});
