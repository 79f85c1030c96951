import { sessionsHeads } from '../../catalogue/session-watch.js';
import { implement } from '../operation.js';

export const pgSessionsHeads = implement(sessionsHeads, {
  statements: { heads: 'SELECT id, event_count FROM sessions WHERE id = ANY ($1::text[])' },
  async run(q, [ids]) {
    const found = new Map((await q.all('heads', [ids])).map((row) => [row[0] as string, row[1] as number]));
    return ids.map((id) => found.get(id) ?? null);
  },
});

export const pgSessionWatchOperations = [pgSessionsHeads];
