import type { ThreadHandle } from './call-queue.js';
import type { ReadBatchRequest, ReadBatchResponse } from './protocol.js';
import type { ReadWorkers } from './read-pool.js';

/**
 * One reader thread as the set drives it: batches go in with `post`, and its answers come
 * back in the order the batches went (a reader runs one batch at a time, in order).
 */
export interface ReaderChannel extends ThreadHandle {
  post(request: ReadBatchRequest): void;
  /** Whether the thread holds the process open: only while it has batches. */
  ref(): void;
  unref(): void;
}

/** What a reader channel reports to the set. */
export interface ReaderEvents {
  /** The thread has opened its connection and takes batches. */
  ready(): void;
  answer(response: ReadBatchResponse): void;
  /** The thread ended: its unanswered batches will never be answered. */
  exit(reason: string): void;
}

/** Starts one reader thread. */
export type SpawnReader = (events: ReaderEvents) => ReaderChannel;

/** Readers in a row that may die before they are ready before the set stops replacing them. */
const BOOT_ATTEMPTS = 5;

interface Reader {
  readonly channel: ReaderChannel;
  /** Batches sent and not answered, oldest first. */
  readonly waiting: { resolve(response: ReadBatchResponse): void; reject(error: Error): void }[];
  ready: boolean;
}

/** Whether `a` should take the next batch rather than `b`: a ready reader first, then the one with fewer batches. */
const better = (a: Reader, b: Reader): boolean => (a.ready !== b.ready ? a.ready : a.waiting.length < b.waiting.length);

/**
 * The reader threads, each fed through its own message channel: a batch goes to the
 * ready reader with the fewest unanswered batches (to one still starting only when none
 * is ready). A reader that dies fails only its own unanswered batches and is replaced at
 * once; readers that die before they are ready (a build that will not load) are replaced
 * only BOOT_ATTEMPTS times in a row, after which batches fail at once rather than wait
 * for a reader that will never come. `started` counts readers that became ready, so a
 * replacement counts once it serves.
 *
 * This replaces a Piscina pool: per batch, Piscina made a task object, an async
 * resource, a public `interface` object per worker to pick one, and a message around
 * the batch, which on the caller's thread cost more than the reads it carried.
 */
export class ReaderSet implements ReadWorkers {
  readonly #spawn: SpawnReader;
  readonly #readers: Reader[] = [];
  #started = 0;
  #bootFailures = 0;
  #lastExit = '';
  #destroyed = false;

  constructor(spawn: SpawnReader, count: number) {
    this.#spawn = spawn;
    for (let i = 0; i < count; i++) this.#start();
  }

  get started(): number {
    return this.#started;
  }

  get threads(): readonly ThreadHandle[] {
    return this.#readers.map((reader) => reader.channel);
  }

  run(request: ReadBatchRequest): Promise<ReadBatchResponse> {
    const readers = this.#readers;
    if (readers.length === 0) {
      return Promise.reject(new Error(`no reader thread is running (the last one ${this.#lastExit || 'never started'})`));
    }
    let reader = readers[0]!;
    for (let i = 1; i < readers.length && !(reader.ready && reader.waiting.length === 0); i++) {
      if (better(readers[i]!, reader)) reader = readers[i]!;
    }
    return new Promise((resolve, reject) => {
      if (reader.waiting.push({ resolve, reject }) === 1) reader.channel.ref();
      reader.channel.post(request);
    });
  }

  #start(): void {
    // The events arrive later, from the thread: by then `reader`, declared below, is set.
    const channel = this.#spawn({
      ready: () => {
        reader.ready = true;
        this.#started++;
        this.#bootFailures = 0;
      },
      answer: (response) => {
        const waiter = reader.waiting.shift();
        if (reader.waiting.length === 0) reader.channel.unref();
        waiter?.resolve(response);
      },
      exit: (reason) => this.#exited(reader, reason),
    });
    const reader: Reader = { channel, waiting: [], ready: false };
    channel.unref();
    this.#readers.push(reader);
  }

  #exited(reader: Reader, reason: string): void {
    const index = this.#readers.indexOf(reader);
    if (index === -1) return;
    this.#readers.splice(index, 1);
    this.#lastExit = reason;
    if (!this.#destroyed && (reader.ready || ++this.#bootFailures < BOOT_ATTEMPTS)) this.#start();
    const error = new Error(reason);
    for (const waiter of reader.waiting.splice(0)) waiter.reject(error);
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    // Held open until every thread has exited.
    await Promise.all(
      [...this.#readers].map((reader) => {
        reader.channel.ref();
        return reader.channel.terminate();
      }),
    );
  }
}
