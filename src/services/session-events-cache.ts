import type { EventRange, EventRow, HeldEvents, SessionVersion } from '../catalogue/session-events.js';
import type { JsonValue, SessionEvent } from '../api/types.js';
import { DecodeCache, deepFreeze } from './decode-cache.js';

/**
 * The events of one session this process decoded last: seqs `from` to `from +
 * values.length - 1` of the session as of `version`, frozen.
 */
interface Run {
  readonly version: SessionVersion;
  from: number;
  /** The decoded events, in seq order, and the length of each one's JSON text (what the bound counts). */
  values: JsonValue[];
  sizes: number[];
  bytes: number;
  /** The most events one read of this session returned: the run keeps up to twice as many. */
  widest: number;
}

const sameVersion = (a: SessionVersion, b: SessionVersion): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

/**
 * Sessions' events as the caller's thread decoded them, by session id: an event never
 * changes once written while its session's version holds (src/catalogue/session-events.ts),
 * so a read tells the reader which events it holds ({@link held}) and decodes only the
 * texts that come back ({@link decode}). A session's entry is one run of consecutive seqs
 * (a read of the newest n events moves it along as the session grows); entries go least
 * recently used first, within `maxBytes` of JSON text. It learns only from reads, which
 * see committed data: a write rolled back never enters it; a read sent before this
 * process's own delete of a session neither adds to it nor takes from it ({@link mark}).
 * What it hands out is frozen and shared by every caller; with `maxBytes` 0 it keeps
 * nothing and every read decodes all it returns, as objects of the caller's own.
 */
export class SessionEventsCache {
  readonly #runs: DecodeCache<string, Run>;
  /** Sessions this process deleted, counted ({@link mark}). */
  #deletes = 0;

  constructor(maxBytes: number) {
    this.#runs = new DecodeCache(maxBytes);
  }

  get enabled(): boolean {
    return this.#runs.enabled;
  }

  /** Bytes of event text held now. */
  get bytes(): number {
    return this.#runs.bytes;
  }

  /**
   * What to give {@link decode} for a read about to be sent. A session created again under
   * the same id within the same millisecond can have the version of the one deleted
   * (src/catalogue/session-events.ts, SessionVersion). A read answered before this
   * process's delete and decoded after it would put the deleted session's events back under
   * that version, where the new session's reads would take them; and the events it left out
   * as held may be found held for the new session by then. So a read sent before any delete
   * that came since keeps nothing it decoded and takes nothing held: left anything out, it
   * reads again.
   */
  get mark(): number {
    return this.#deletes;
  }

  /** What to tell a read of session `id` this process holds (null: nothing). */
  held(id: string): HeldEvents | null {
    if (!this.#runs.enabled) return null;
    const run = this.#runs.get(id);
    return run === undefined ? null : [run.version, run.from, run.from + run.values.length - 1];
  }

  /**
   * The events of a read, decoded, in the order of `seqs`: each text decoded (and kept, when
   * the read's events are consecutive), each null one taken from what this cache holds.
   * Undefined when a null one is no longer held (dropped or replaced since the read left):
   * read again, holding nothing. `mark` is the {@link mark} taken before the read was sent:
   * with a delete since, nothing is kept or taken.
   */
  decode(
    id: string,
    version: SessionVersion,
    seqs: readonly number[],
    texts: readonly (string | null)[],
    mark: number,
  ): JsonValue[] | undefined {
    const n = seqs.length;
    const values = new Array<JsonValue>(n);
    if (!this.#runs.enabled) {
      for (let i = 0; i < n; i++) values[i] = JSON.parse(texts[i]!) as JsonValue;
      return values;
    }
    // Sent before a delete since: what it left out may be the deleted session's or a new one's of its version.
    let run = mark === this.#deletes ? this.#runs.get(id) : undefined;
    if (run !== undefined && !sameVersion(run.version, version)) run = undefined;
    let decoded = 0;
    for (let i = 0; i < n; i++) {
      const text = texts[i]!;
      if (text === null) {
        const at = run === undefined ? -1 : seqs[i]! - run.from;
        if (at < 0 || at >= run!.values.length) return undefined;
        values[i] = run!.values[at]!;
      } else {
        values[i] = deepFreeze(JSON.parse(text) as JsonValue);
        decoded++;
      }
    }
    if (n > 0 && mark === this.#deletes) this.#keep(id, run, version, seqs, texts, values, decoded);
    return values;
  }

  /** The events of a session read ({@link EventRange}), as {@link decode} decodes them. */
  decodeRange(id: string, version: SessionVersion, { first, before, held, after }: EventRange, mark: number): JsonValue[] | undefined {
    const n = before.length + held + after.length;
    const seqs = new Array<number>(n);
    const texts = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      seqs[i] = first + i;
      const k = i - before.length - held;
      texts[i] = i < before.length ? before[i]! : k < 0 ? null : after[k]!;
    }
    return this.decode(id, version, seqs, texts, mark);
  }

  /** Pages of {@link SessionEvent}s: each row's event decoded as {@link decode} does, in fresh objects. */
  decodeRows(id: string, version: SessionVersion | null, rows: readonly EventRow[], mark: number): SessionEvent[] | undefined {
    if (version === null || rows.length === 0) return [];
    const values = this.decode(
      id,
      version,
      rows.map((event) => event.seq),
      rows.map((event) => event.event),
      mark,
    );
    if (values === undefined) return undefined;
    return rows.map(({ seq, eventId, createdAt }, i) => ({ seq, eventId, event: values[i]!, createdAt }));
  }

  /** The writer's own trim: events before `firstSeq` are gone (null: all of them). */
  trimmed(id: string, firstSeq: number | null): void {
    const run = this.#runs.get(id);
    if (run === undefined) return;
    if (firstSeq === null) this.#runs.delete(id);
    else if (firstSeq > run.from) this.#cut(id, run, firstSeq - run.from);
  }

  /** The writer's own delete. */
  deleted(id: string): void {
    this.#deletes++;
    this.#runs.delete(id);
  }

  /**
   * Keeps a read's events: the run grows by them where they adjoin or overlap it (same
   * version), else they replace it; it keeps at most twice the widest read's events.
   */
  #keep(
    id: string,
    held: Run | undefined,
    version: SessionVersion,
    seqs: readonly number[],
    texts: readonly (string | null)[],
    values: readonly JsonValue[],
    decoded: number,
  ): void {
    const n = seqs.length;
    const ascending = seqs[n - 1]! >= seqs[0]!;
    const low = ascending ? seqs[0]! : seqs[n - 1]!;
    const high = ascending ? seqs[n - 1]! : seqs[0]!;
    // Only a run of consecutive seqs is kept (a log's events are; this checks it).
    if (high - low + 1 !== n) return;
    const at = (k: number): number => (ascending ? k : n - 1 - k);
    const size = (k: number): number => texts[at(k)]?.length ?? 0;
    let run = held;
    if (run !== undefined && decoded === 0) {
      // All of it held already: nothing to add.
      run.widest = Math.max(run.widest, n);
      return;
    }
    if (run === undefined || low > run.from + run.values.length || high < run.from - 1) {
      // Not adjoining what is held (so every event of it was decoded now): it replaces that.
      run = { version, from: low, values: [], sizes: [], bytes: 0, widest: n };
      for (let k = 0; k < n; k++) {
        run.values.push(values[at(k)]!);
        run.sizes.push(size(k));
        run.bytes += run.sizes[k]!;
      }
    } else {
      run.widest = Math.max(run.widest, n);
      // Before the run: a new front. After it: appended in place.
      if (low < run.from) {
        const before = run.from - low;
        const values2: JsonValue[] = [];
        const sizes2: number[] = [];
        for (let k = 0; k < before; k++) {
          values2.push(values[at(k)]!);
          sizes2.push(size(k));
          run.bytes += size(k);
        }
        run.values = values2.concat(run.values);
        run.sizes = sizes2.concat(run.sizes);
        run.from = low;
      }
      for (let seq = run.from + run.values.length; seq <= high; seq++) {
        const k = seq - low;
        run.values.push(values[at(k)]!);
        run.sizes.push(size(k));
        run.bytes += size(k);
      }
      const extra = run.values.length - 2 * run.widest;
      // Past twice the widest read: the oldest go, down to the widest read's length.
      if (extra > 0) {
        this.#cut(id, run, run.values.length - run.widest);
        return;
      }
    }
    this.#runs.set(id, run, run.bytes);
  }

  /** Drops the run's first `count` events. */
  #cut(id: string, run: Run, count: number): void {
    if (count >= run.values.length) {
      this.#runs.delete(id);
      return;
    }
    for (let k = 0; k < count; k++) run.bytes -= run.sizes[k]!;
    run.values = run.values.slice(count);
    run.sizes = run.sizes.slice(count);
    run.from += count;
    this.#runs.set(id, run, run.bytes);
  }
}

/** A page's rows decoded as objects of the caller's own (no cache: the watch's reads). */
export function eventsOfRows(rows: readonly EventRow[]): SessionEvent[] {
  return rows.map(({ seq, eventId, event, createdAt }) => ({ seq, eventId, event: JSON.parse(event!) as JsonValue, createdAt }));
}
