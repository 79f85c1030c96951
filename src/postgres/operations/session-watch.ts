import { sessionsHeads } from '../../catalogue/session-watch.js';
import { defineTable } from '../../catalogue/table.js';
import { implement } from '../operation.js';

/** A session's id and last seq. */
const HEAD = defineTable('sessions', { id: 'text', eventCount: { kind: 'integer', column: 'event_count' } });

export const pgSessionsHeads = implement(sessionsHeads, {
  statements: { heads: `SELECT ${HEAD.columns} FROM sessions WHERE id = ANY ($1::text[])` },
  async run(q, [ids]) {
    const found = new Map((await q.all('heads', [ids])).map((row) => HEAD.decode(row)).map(({ id, eventCount }) => [id, eventCount]));
    return ids.map((id) => found.get(id) ?? null);
  },
});

export const pgSessionWatchOperations = [pgSessionsHeads];
