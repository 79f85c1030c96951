import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openInProcessStore } from './helpers/in-process-store.js';
import { tempDir } from './helpers/temp.js';
import { describeEachEngine } from './helpers/engines.js';

describeEachEngine('documents', (engine) => {
  it('upsert indexes a new document as pending, and a changed hash marks a synced one stale', async () => {
    const store = await engine.open();
    const created = await store.documents.upsert({ filePath: 'docs/plan.md', title: 'Plan', documentType: 'plan', contentHash: 'h1', metadata: { words: 10 } });
    expect(created).toMatchObject({ filePath: 'docs/plan.md', title: 'Plan', documentType: 'plan', contentHash: 'h1', chunkCount: 1, syncStatus: 'pending', embedding: null, metadata: { words: 10 } });
    const embedding = new Float32Array([0.1, -2.5, Math.PI, Number.NaN, 1e-30]);
    const synced = await store.documents.markSynced('docs/plan.md', { embedding, embeddingModel: 'embed-1', contentHash: 'h1' });
    expect(synced.syncStatus).toBe('synced');
    expect(synced.lastSyncedAt).toMatch(/Z$/);
    const same = await store.documents.upsert({ filePath: 'docs/plan.md', title: 'Plan v1', contentHash: 'h1', chunkCount: 3 });
    expect(same).toMatchObject({ syncStatus: 'synced', title: 'Plan v1', chunkCount: 3, documentType: null, metadata: { words: 10 } });
    const changed = await store.documents.upsert({ filePath: 'docs/plan.md', title: 'Plan v2', contentHash: 'h2' });
    expect(changed.syncStatus).toBe('stale');
    expect(changed.embedding).toBeInstanceOf(Float32Array);
  });

  it('stores an embedding that reads back bit-identical', async () => {
    const store = await engine.open();
    await store.documents.upsert({ filePath: 'a.md', title: 'A', contentHash: 'h' });
    const values = new Float32Array(768);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i) * 1e3;
    // A NaN with a payload and negative zero must survive too.
    new DataView(values.buffer).setUint32(4, 0x7fc01234, true);
    values[2] = -0;
    await store.documents.markSynced('a.md', { embedding: values });
    const read = (await store.documents.get('a.md'))!.embedding!;
    expect(read).toBeInstanceOf(Float32Array);
    expect(Buffer.from(read.buffer, read.byteOffset, read.byteLength)).toEqual(Buffer.from(values.buffer));
  });

  it('sends only a view’s own bytes', async () => {
    const store = await engine.open();
    await store.documents.upsert({ filePath: 'v.md', title: 'V', contentHash: 'h' });
    const big = new Float32Array(1000).fill(7);
    const view = big.subarray(10, 14);
    view.set([1, 2, 3, 4]);
    const synced = await store.documents.markSynced('v.md', { embedding: view });
    expect([...synced.embedding!]).toEqual([1, 2, 3, 4]);
  });

  it('refuses an embedding computed from content that has since changed', async () => {
    const store = await engine.open();
    await store.documents.upsert({ filePath: 'a.md', title: 'A', contentHash: 'new' });
    await expect(store.documents.markSynced('a.md', { embedding: new Float32Array(2), contentHash: 'old' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.documents.get('a.md'))?.syncStatus).toBe('pending');
    await expect(store.documents.markSynced('missing.md')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.documents.markSynced('a.md', { embedding: [1, 2] as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('pendingSync pages through never-synced and stale documents in queue order, one row at a time', async () => {
    const store = await engine.open();
    // Stale documents carry a sync time (several may share a millisecond: the id breaks
    // the tie); pending ones have none (NULL, which sorts first). Both cursor forms are walked.
    for (let i = 0; i < 6; i++) await store.documents.upsert({ filePath: `s${i}.md`, title: 's', contentHash: 'h' });
    for (let i = 0; i < 6; i++) await store.documents.markSynced(`s${i}.md`);
    for (let i = 0; i < 6; i++) await store.documents.upsert({ filePath: `s${i}.md`, title: 's', contentHash: 'changed' });
    for (let i = 0; i < 5; i++) await store.documents.upsert({ filePath: `p${i}.md`, title: 'p', contentHash: 'h' });
    // Stale but never synced (failed, then changed): a NULL time among the stale ones,
    // with ids above the synced ones, so the walk past a NULL must not go by id alone.
    for (let i = 0; i < 2; i++) {
      await store.documents.upsert({ filePath: `f${i}.md`, title: 'f', contentHash: 'h' });
      await store.documents.markFailed(`f${i}.md`);
      await store.documents.upsert({ filePath: `f${i}.md`, title: 'f', contentHash: 'changed' });
    }
    const all = await store.documents.pendingSync();
    expect(all.items.map((d) => d.filePath)).toEqual([
      'p0.md', 'p1.md', 'p2.md', 'p3.md', 'p4.md', 'f0.md', 'f1.md', 's0.md', 's1.md', 's2.md', 's3.md', 's4.md', 's5.md',
    ]);
    expect(all.items.map((d) => d.lastSyncedAt === null)).toEqual([...Array<boolean>(7).fill(true), ...Array<boolean>(6).fill(false)]);
    for (const size of [1, 2, 4]) {
      const walked: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.documents.pendingSync({ limit: size, ...(cursor === undefined ? {} : { cursor }) });
        walked.push(...page.items.map((d) => d.filePath));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(walked).toEqual(all.items.map((d) => d.filePath));
    }
    await expect(store.documents.pendingSync({ cursor: 'nope' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('pendingSync lists pending then stale documents; failed and synced ones are not in it', async () => {
    const store = await engine.open();
    for (const name of ['a', 'b', 'c', 'd']) await store.documents.upsert({ filePath: `${name}.md`, title: name, contentHash: 'h' });
    await store.documents.markSynced('a.md');
    await store.documents.upsert({ filePath: 'a.md', title: 'a', contentHash: 'h2' });
    await store.documents.markSynced('b.md');
    await store.documents.markFailed('c.md', { error: 'embedding service down' });
    const pending = await store.documents.pendingSync();
    expect(pending.items.map((d) => `${d.filePath}:${d.syncStatus}`)).toEqual(['d.md:pending', 'a.md:stale']);
    expect(pending.nextCursor).toBeUndefined();
    const first = await store.documents.pendingSync({ limit: 1 });
    expect(first.items.map((d) => d.filePath)).toEqual(['d.md']);
    const second = await store.documents.pendingSync({ limit: 1, cursor: first.nextCursor! });
    expect(second.items.map((d) => d.filePath)).toEqual(['a.md']);
    expect(second.nextCursor).toBeUndefined();
    const failedAudit = await store.audit.list({ limit: 1 });
    expect(failedAudit.items[0]).toMatchObject({ actionType: 'document_mark_failed', result: 'failed', actionData: { filePath: 'c.md', error: 'embedding service down' } });
    await expect(store.documents.markFailed('none.md')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists by type newest first, page by page, and deletes', async () => {
    const store = await engine.open();
    for (let i = 0; i < 5; i++) await store.documents.upsert({ filePath: `d${i}.md`, title: `D${i}`, documentType: 'design', contentHash: 'h' });
    await store.documents.upsert({ filePath: 'r.md', title: 'R', documentType: 'report', contentHash: 'h' });
    const first = await store.documents.listByType('design', { limit: 2 });
    const rest = await store.documents.listByType('design', { limit: 10, cursor: first.nextCursor! });
    expect([...first.items, ...rest.items].map((d) => d.filePath).sort()).toEqual(['d0.md', 'd1.md', 'd2.md', 'd3.md', 'd4.md']);
    await store.documents.delete('d0.md');
    expect(await store.documents.get('d0.md')).toBeUndefined();
    await expect(store.documents.delete('d0.md')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.documents.listByType('memo' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('backup', () => {
  it('writes a consistent copy that opens as a store, and refuses an existing destination', async () => {
    const store = await openInProcessStore();
    await store.sessions.create({ id: 's1', appName: 'a', userId: 'u' });
    const path = join(tempDir(), 'backup.db');
    const result = await store.backup(path);
    expect(result.path).toBe(path);
    expect(result.bytes).toBeGreaterThan(0);
    expect(existsSync(path)).toBe(true);
    const copy = await openInProcessStore({ path });
    expect((await copy.sessions.get('s1'))?.id).toBe('s1');
    expect((await copy.check()).ok).toBe(true);
    await expect(store.backup(path)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
