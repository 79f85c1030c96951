import { describe, expect, it } from 'vitest';
import { defineTable } from '../src/catalogue/table.js';

// The decoder a table declaration compiles, on rows as each engine returns them: SQLite's
// 0/1 and PostgreSQL's booleans, JSON text, and NULL where a column allows it.

describe('a declared table', () => {
  const table = defineTable('t', { id: 'integer', isDeleted: 'boolean', dependencies: 'idList', note: 'text?' });

  it('decodes booleans from 0/1 and true/false, and an id list from JSON or NULL', () => {
    expect(table.decode([1, 1, '["a","b"]', 'n'])).toEqual({ id: 1, isDeleted: true, dependencies: ['a', 'b'], note: 'n' });
    expect(table.decode([2, 0, null, null])).toEqual({ id: 2, isDeleted: false, dependencies: [], note: null });
    expect(table.decode([3, true, '[]', null])).toEqual({ id: 3, isDeleted: true, dependencies: [], note: null });
    expect(table.decode([4, false, undefined, null])).toEqual({ id: 4, isDeleted: false, dependencies: [], note: null });
  });

  it('reads the values a statement selected after its columns, and a row that starts at an offset', () => {
    const row = [1, 0, null, null, 'rowid', 'extra'];
    expect(table.after(row)).toBe('rowid');
    expect(table.after(row, 1)).toBe('extra');
    expect(table.decodeAt(['other', 5, 1, '["x"]', 'n'], 1)).toEqual({ id: 5, isDeleted: true, dependencies: ['x'], note: 'n' });
    expect(table.columns).toBe('id, is_deleted, dependencies, note');
    expect(table.width).toBe(4);
  });

  it('decodes bytes as a plain Uint8Array of their own, and an embedding from a blob or from real[]', () => {
    const blobs = defineTable('b', { value: 'bytes', maybe: 'bytes?', embedding: 'embedding' });
    // A Buffer from node's pool (what node-postgres hands over): its neighbours' bytes must not come along.
    const pooled = Buffer.from([1, 2, 3]);
    const packed = Buffer.from(new Float32Array([0.5, -2]).buffer);
    const row = blobs.decode([pooled, null, packed]);
    expect(row.value).toEqual(new Uint8Array([1, 2, 3]));
    expect(Buffer.isBuffer(row.value)).toBe(false);
    expect(row.value.buffer.byteLength).toBe(3);
    expect(row.maybe).toBeNull();
    expect(row.embedding).toEqual(new Float32Array([0.5, -2]));
    // PostgreSQL's real[] arrives as numbers.
    expect(blobs.decode([new Uint8Array([9]), new Uint8Array([]), [0.5, -2]]).embedding).toEqual(new Float32Array([0.5, -2]));
    // A plain Uint8Array (SQLite's, past a thread) is kept as it is.
    const plain = new Uint8Array([4]);
    expect(blobs.decode([plain, null, packed]).value).toBe(plain);
  });

  it("keeps a SQLite blob as the driver returned it, uncopied, and a shape's expression columns as named", () => {
    const shape = defineTable('lg_store', { value: 'blob', vector: { kind: 'blob?', column: 'v.embedding' }, size: { kind: 'integer', column: 'octet_length(value)' } });
    const own = Buffer.from([1, 2, 3]);
    const row = shape.decode([own, null, 3]);
    expect(row.value).toBe(own);
    expect(row).toEqual({ value: own, vector: null, size: 3 });
    expect(shape.columns).toBe('value, v.embedding, octet_length(value)');
  });
});
