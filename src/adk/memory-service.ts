import type { BaseMemoryService, Event, MemoryEntry, SearchMemoryRequest, SearchMemoryResponse, Session } from '@google/adk';
import { createHash } from 'node:crypto';
import { invalidArgument, StoreError } from '../api/errors.js';
import { engineOf, type Store } from '../store.js';
import * as v from '../api/validate.js';
import { adkMemoryAddSession, adkMemorySearch, type AdkMemoryItem } from '../catalogue/adk.js';
import type { StoreEngine } from '../api/engine.js';

/** Options of {@link AbathurMemoryService}'s constructor. */
export interface AbathurMemoryServiceOptions {
  /** Most memories one search returns, best first. Default 50, at most 1000. */
  limit?: number;
}

/** Most words of a query that are searched for. */
const MAX_QUERY_WORDS = 64;

/** The memory namespace of one user of one app: ids URI-encoded, so ':' stays a separator. */
export function memoryNamespace(appName: string, userId: string): string {
  return `adk:${encodeURIComponent(appName)}:${encodeURIComponent(userId)}`;
}

/** The namespace as one FTS token: a hash in hex, letters and digits only. */
function scopeToken(namespace: string): string {
  return `s${createHash('sha256').update(namespace).digest('hex').slice(0, 32)}`;
}

/** The words of an event, as InMemoryMemoryService takes them: its text parts joined by spaces. */
function eventText(event: Event): string {
  return (event.content?.parts ?? [])
    .map((part) => part.text)
    .filter((text): text is string => typeof text === 'string' && text.length > 0)
    .join(' ');
}

/** The words of a query that are searched for: whitespace-separated, each with a letter or a digit, once each. */
export function queryWords(query: string): string[] {
  return [...new Set(query.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)))].slice(0, MAX_QUERY_WORDS);
}

/**
 * ADK memory on abathur-store: the events of sessions added to memory are memory entries
 * (namespace `adk:<app>:<user>`, type episodic), searched by keyword, best matches first:
 * with FTS5 and BM25 on SQLite, with a tsvector index and ts_rank on PostgreSQL.
 *
 * @example
 * const memoryService = new AbathurMemoryService(store);
 * await memoryService.addSessionToMemory(session);
 * const { memories } = await memoryService.searchMemory({ appName: 'planner', userId: 'alice', query: 'paris weather' });
 */
export class AbathurMemoryService implements BaseMemoryService {
  readonly #engine: StoreEngine;
  readonly #limit: number;
  readonly #payload: number;

  /** A memory service on a store from `openStore`; closing the store stays the caller's business. */
  constructor(store: Store, options?: AbathurMemoryServiceOptions) {
    let engine: StoreEngine;
    try {
      engine = engineOf(store);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw invalidArgument('AbathurMemoryService expects a store from openStore()');
    }
    const o = v.options('options', options, ['limit'] as const);
    this.#engine = engine;
    this.#limit = v.limit(o.limit);
    this.#payload = engine.options.maxPayloadBytes;
  }

  /**
   * Keeps the session's events that have text in memory. Adding a session again replaces
   * what it added before (as InMemoryMemoryService): unchanged events are left alone,
   * changed ones get a new version, events no longer in the session are deleted.
   */
  async addSessionToMemory(session: Session): Promise<void> {
    await this.#engine.call(adkMemoryAddSession, () => {
      if (typeof session !== 'object' || session === null) throw invalidArgument('session must be a Session object');
      const namespace = memoryNamespace(v.identifier('session.appName', session.appName), v.identifier('session.userId', session.userId));
      const prefix = `${encodeURIComponent(v.identifier('session.id', session.id))}/`;
      if (!Array.isArray(session.events)) throw invalidArgument('session.events must be an array');
      const items = new Map<string, AdkMemoryItem>();
      let bytes = 0;
      session.events.forEach((event, i) => {
        const text = eventText(event);
        // An event without text can never match a keyword: it is not kept.
        if (text.length === 0) return;
        const key = prefix + encodeURIComponent(typeof event.id === 'string' && event.id.length > 0 ? event.id : `#${i}`);
        const value = { content: event.content, author: event.author, timestamp: new Date(event.timestamp).toISOString() };
        const json = v.json(`session.events[${i}]`, value, this.#payload);
        // One call's payload, as a batch of appended events is bounded: the whole of it.
        bytes += Buffer.byteLength(json) + Buffer.byteLength(text);
        if (bytes > this.#payload) {
          throw invalidArgument(
            `session.events[0..${i}] are ${bytes} bytes to keep in memory together, over the ${this.#payload}-byte limit (maxPayloadBytes); nothing was written`,
          );
        }
        items.set(key, [key, json, text]);
      });
      return [
        // Keys of this session are those starting with `prefix`: '0' follows '/'.
        { namespace, scope: scopeToken(namespace), keyFrom: prefix, keyTo: `${prefix.slice(0, -1)}0`, items: [...items.values()] },
        undefined,
      ] as const;
    });
  }

  /**
   * Memories of this app and user whose text has any of the query's words, best first
   * (BM25 on SQLite, ts_rank on PostgreSQL), at most `limit` of them. Words match as FTS5's
   * unicode61 tokenizer splits them, on both engines: case- and accent-insensitive, digits
   * included, punctuation ignored.
   */
  async searchMemory(request: SearchMemoryRequest): Promise<SearchMemoryResponse> {
    if (typeof request !== 'object' || request === null) throw invalidArgument('request must be an object');
    const namespace = memoryNamespace(v.identifier('appName', request.appName), v.identifier('userId', request.userId));
    const words = queryWords(v.text('query', request.query));
    if (words.length === 0) return { memories: [] };
    const found = await this.#engine.call(adkMemorySearch, () => [{ namespace, scope: scopeToken(namespace), words, limit: this.#limit }] as const);
    return { memories: found.map((text) => JSON.parse(text) as MemoryEntry) };
  }
}
