import { describe, expect, it } from 'vitest';
import type { SessionVersion } from '../src/catalogue/session-events.js';
import { SessionEventsCache } from '../src/services/session-events-cache.js';

// The caller's side of sessions.get's and sessions.events's decode cache, without a store:
// which events a read says it holds, what it decodes, and how a session's run of decoded
// events moves, grows, shrinks and goes.

const V1: SessionVersion = [1, '2026-01-01T00:00:00.000Z', 0];
const V2: SessionVersion = [1, '2026-01-01T00:00:00.001Z', 0];

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** A read's texts: null for the seqs the cache said it holds, the event's JSON for the rest. */
function texts(cache: SessionEventsCache, id: string, version: SessionVersion, seqs: readonly number[]): (string | null)[] {
  const held = cache.held(id);
  const same = held !== null && held[0].every((part, i) => part === version[i]);
  return seqs.map((seq) => (same && seq >= held[1] && seq <= held[2] ? null : JSON.stringify({ seq })));
}
/** A read of `seqs` as a reader would answer it, decoded: the seqs of the events it returned. */
function read(cache: SessionEventsCache, seqs: readonly number[], version: SessionVersion = V1, id = 's'): unknown[] | undefined {
  return cache.decode(id, version, seqs, texts(cache, id, version, seqs), cache.mark)?.map((event) => (event as { seq: number }).seq);
}
const decoded = (cache: SessionEventsCache, seqs: readonly number[], version: SessionVersion = V1): number =>
  texts(cache, 's', version, seqs).filter((t) => t !== null).length;

describe('SessionEventsCache', () => {
  it("follows a growing session's newest events, keeping at most twice the widest read", () => {
    const cache = new SessionEventsCache(1 << 20);
    expect(read(cache, range(1, 10))).toEqual(range(1, 10));
    expect(cache.held('s')).toEqual([V1, 1, 10]);
    // The session grows by one each time; each read of the newest 10 decodes only the new one.
    for (let last = 11; last <= 30; last++) {
      expect(decoded(cache, range(last - 9, last))).toBe(1);
      expect(read(cache, range(last - 9, last))).toEqual(range(last - 9, last));
    }
    const [, from, to] = cache.held('s')!;
    expect(to).toBe(30);
    expect(to - from + 1).toBeLessThanOrEqual(20);
    expect(to - from + 1).toBeGreaterThanOrEqual(10);
  });

  it('grows at the front for an older page, and a page elsewhere replaces what it held', () => {
    const cache = new SessionEventsCache(1 << 20);
    read(cache, range(11, 20));
    // A newest-first page of the ten before: they join the front.
    expect(read(cache, range(1, 10).reverse())).toEqual(range(1, 10).reverse());
    expect(cache.held('s')).toEqual([V1, 1, 20]);
    expect(decoded(cache, range(1, 20))).toBe(0);
    expect(read(cache, range(5, 15))).toEqual(range(5, 15));
    // Not adjoining: replaced.
    expect(read(cache, range(40, 45))).toEqual(range(40, 45));
    expect(cache.held('s')).toEqual([V1, 40, 45]);
    // Not consecutive (a log's events always are): used, not kept.
    expect(read(cache, [1, 3, 5])).toEqual([1, 3, 5]);
    expect(cache.held('s')).toEqual([V1, 40, 45]);
  });

  it('holds nothing of another version, and a read naming events it no longer holds gets undefined', () => {
    const cache = new SessionEventsCache(1 << 20);
    read(cache, range(1, 5));
    expect(decoded(cache, range(1, 5), V2)).toBe(5);
    expect(read(cache, range(1, 5), V2)).toEqual(range(1, 5));
    expect(cache.held('s')).toEqual([V2, 1, 5]);
    // An answer that leaves out events of a version no longer held, or seqs outside the run.
    expect(cache.decode('s', V1, [1], [null], cache.mark)).toBeUndefined();
    expect(cache.decode('s', V2, [6], [null], cache.mark)).toBeUndefined();
    expect(cache.decode('other', V2, [1], [null], cache.mark)).toBeUndefined();
  });

  it("drops what the writer's own trims and deletes remove", () => {
    const cache = new SessionEventsCache(1 << 20);
    read(cache, range(1, 10));
    cache.trimmed('s', 4);
    expect(cache.held('s')).toEqual([V1, 4, 10]);
    expect(cache.decode('s', V1, [3], [null], cache.mark)).toBeUndefined();
    expect(read(cache, range(4, 10))).toEqual(range(4, 10));
    cache.trimmed('s', 2);
    expect(cache.held('s')).toEqual([V1, 4, 10]);
    cache.trimmed('s', 11);
    expect(cache.held('s')).toBeNull();
    read(cache, range(1, 3));
    cache.trimmed('s', null);
    expect(cache.held('s')).toBeNull();
    read(cache, range(1, 3));
    cache.deleted('s');
    expect(cache.held('s')).toBeNull();
    cache.trimmed('s', 5);
    expect(cache.held('s')).toBeNull();
  });

  it("keeps nothing from, and gives nothing to, a read sent before the writer's own delete", () => {
    const cache = new SessionEventsCache(1 << 20);
    // Sent holding nothing; the session is deleted, and the answer, read before the delete, is decoded after it.
    const sent = cache.mark;
    cache.deleted('s');
    expect(cache.decode('s', V1, [1, 2], ['{"old":1}', '{"old":2}'], sent)).toEqual([{ old: 1 }, { old: 2 }]);
    // Created again within the same millisecond (SQLite may give it the same rowid): the
    // same version, so a read holding the deleted session's events would get no text for them.
    expect(cache.held('s')).toBeNull();
    // A read sent after the delete keeps what it decoded, as before.
    expect(cache.decode('s', V1, [1, 2], ['{"new":1}', '{"new":2}'], cache.mark)).toEqual([{ new: 1 }, { new: 2 }]);
    expect(cache.held('s')).toEqual([V1, 1, 2]);
    // A read sent before the delete, answered holding e1 and e2 of the deleted session: it
    // takes nothing from what is held now (the new session's), and reads again.
    expect(cache.decode('s', V1, [1, 2], [null, null], sent)).toBeUndefined();
    expect(cache.decode('s', V1, [1, 2], [null, null], cache.mark)).toEqual([{ new: 1 }, { new: 2 }]);
  });

  it('keeps the least recently read sessions out first, within its bytes', () => {
    // Ten events' JSON text, as the bound counts it.
    const ten = range(1, 10).reduce((n, seq) => n + JSON.stringify({ seq }).length, 0);
    const cache = new SessionEventsCache(Math.floor(2.5 * ten));
    read(cache, range(1, 10), V1, 'a');
    read(cache, range(1, 10), V1, 'b');
    read(cache, range(1, 10), V1, 'a');
    read(cache, range(1, 10), V1, 'c');
    expect(cache.held('b')).toBeNull();
    expect(cache.held('a')).toEqual([V1, 1, 10]);
    expect(cache.held('c')).toEqual([V1, 1, 10]);
    expect(cache.bytes).toBe(2 * ten);
    // A session larger than the bound is not kept at all.
    read(cache, range(1, 30), V1, 'd');
    expect(cache.held('d')).toBeNull();
  });

  it('with 0 bytes holds nothing and hands out objects of the caller', () => {
    const cache = new SessionEventsCache(0);
    expect(cache.enabled).toBe(false);
    const values = cache.decode('s', V1, [1, 2], ['{"a":1}', '[2]'], cache.mark)!;
    expect(values).toEqual([{ a: 1 }, [2]]);
    expect(Object.isFrozen(values[0])).toBe(false);
    expect(cache.held('s')).toBeNull();
    expect(cache.decodeRows('s', null, [], cache.mark)).toEqual([]);
  });
});
