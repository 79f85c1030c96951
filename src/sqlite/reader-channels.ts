import { performance } from 'node:perf_hooks';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { fromWireError, StoreError } from '../api/errors.js';
import type { ThreadHandle } from './call-queue.js';
import { PageAssembly, type ReadBatchRequest, type ReadBatchResponse } from './protocol.js';
import type { ReadWorkers } from './read-pool.js';
import { isReaderFailed, READER_READY, type ReaderMessage, type ServeTask } from './reader-thread.js';
import { SLICE_MS } from './settler.js';

/**
 * The pool the serve tasks run in: Piscina in the store (src/sqlite/threads.ts), or in
 * tests something that runs them on this thread. It starts, replaces and ends the threads.
 */
export interface ServePool {
  /**
   * Runs one serve task on a thread of its own. Settles when the task ends; rejects when
   * its thread died, or when `signal` aborted it before a thread took it.
   */
  serve(task: ServeTask, signal: AbortSignal): Promise<unknown>;
  readonly threads: readonly ThreadHandle[];
  /**
   * Calls `listener` after a thread has left the pool and the tasks it held have settled.
   * `stranded` says that serve tasks now wait for a thread nothing will start (Piscina does
   * not replace a thread that died while it started; it starts one when given a task);
   * `error` is why the thread died, when it said.
   */
  onThreadLost(listener: (stranded: boolean, error: Error | undefined) => void): void;
  /** Waits for the serve tasks to end (their ports are closed first), then ends the threads. */
  close(): Promise<void>;
}

/** Serve tasks in a row that may end before their reader is ready before the reader is given up on. */
const BOOT_ATTEMPTS = 5;

interface Waiter {
  readonly request: ReadBatchRequest;
  resolve(response: ReadBatchResponse): void;
  reject(error: Error): void;
}

/** One reader: the serve task running it now, and its end of that task's channel. */
interface Reader {
  /** Starting: its serve task has not said ready yet. Down: given up on until a read finds no other. */
  state: 'starting' | 'ready' | 'down';
  /** The current task's port; undefined between a failed start and the next try. */
  port: MessagePort | undefined;
  /** The port's 'message' listener: taken off while the reader's answers wait for the next turn. */
  listener: (first: ReaderMessage) => void;
  /** The answer at the head of `waiting` while its pages arrive. */
  assembly: PageAssembly | undefined;
  abort: AbortController;
  /** Batches sent and not answered, oldest first. */
  readonly waiting: Waiter[];
  /** Serve tasks in a row that ended before they were ready. */
  bootFailures: number;
  /** What the current task said instead of ready: its connection could not open. */
  failure: StoreError | undefined;
  /** Why the thread meant for the current task died, when the task was aborted for it. */
  lostError: Error | undefined;
}

/** Whether `a` should take the next batch rather than `b`: a ready reader first, then the one with fewer batches. */
const better = (a: Reader, b: Reader): boolean => (a.state !== b.state ? a.state === 'ready' : a.waiting.length < b.waiting.length);

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The caller's side of the reader pool: each reader is one long-lived serve task of the
 * pool, fed through its own MessageChannel (its port given in the task's transferList).
 * A batch goes to the ready reader with the fewest unanswered batches (to one still
 * starting only when none is ready); answers come back in the order the batches went.
 *
 * The pool owns the threads. When one dies its serve task rejects: only that reader's
 * unanswered batches fail, and a new serve task takes its place, for which the pool starts
 * a thread. Readers get the writer's policy when they cannot start: a task whose thread
 * died before it was ready is tried again, BOOT_ATTEMPTS times in a row at most, with the
 * batches it was sent moved to the next try (none of them ran); a connection that will not
 * open is not tried again at once. A reader given up on fails its batches with why, and the
 * next read that finds no reader running starts them all again. `started` counts serve
 * tasks that became ready, so a replacement counts once it serves.
 */
export class ReaderChannels implements ReadWorkers {
  readonly #pool: ServePool;
  readonly #task: Omit<ServeTask, 'port'>;
  readonly #readers: Reader[] = [];
  readonly #now: () => number;
  #started = 0;
  #closed = false;

  /** `now`: the clock a slice of answers is timed by (tests move their own). */
  constructor(pool: ServePool, count: number, task: Omit<ServeTask, 'port'>, now: () => number = () => performance.now()) {
    this.#pool = pool;
    this.#task = task;
    this.#now = now;
    pool.onThreadLost((stranded, error) => {
      if (!stranded || this.#closed) return;
      // Withdrawn, its task is given again, and the pool starts a thread for it.
      for (const reader of this.#readers) {
        if (reader.state === 'starting' && reader.port !== undefined) {
          reader.lostError = error;
          reader.abort.abort(error);
        }
      }
    });
    for (let i = 0; i < count; i++) {
      const reader: Reader = {
        state: 'starting',
        port: undefined,
        listener: () => {},
        assembly: undefined,
        abort: new AbortController(),
        waiting: [],
        bootFailures: 0,
        failure: undefined,
        lostError: undefined,
      };
      this.#readers.push(reader);
      this.#serve(reader);
    }
  }

  get started(): number {
    return this.#started;
  }

  get threads(): readonly ThreadHandle[] {
    return this.#pool.threads;
  }

  run(request: ReadBatchRequest): Promise<ReadBatchResponse> {
    if (this.#closed) return Promise.reject(new StoreError('CLOSED', 'the reader pool is closed'));
    let reader = this.#pick();
    if (reader === undefined) {
      // No reader running: this read starts them again, as the next write restarts the writer.
      for (const down of this.#readers) {
        if (down.state === 'down') {
          down.state = 'starting';
          down.bootFailures = 0;
          this.#serve(down);
        }
      }
      reader = this.#pick()!;
    }
    const target = reader;
    return new Promise((resolve, reject) => {
      if (target.waiting.push({ request, resolve, reject }) === 1) target.port?.ref();
      target.port?.postMessage(request);
    });
  }

  #pick(): Reader | undefined {
    let best: Reader | undefined;
    for (const reader of this.#readers) {
      if (reader.state === 'down') continue;
      if (best === undefined || better(reader, best)) best = reader;
      if (best.state === 'ready' && best.waiting.length === 0) break;
    }
    return best;
  }

  /** Gives the pool a serve task for `reader`, on a new channel; batches still waiting go to it. */
  #serve(reader: Reader): void {
    const { port1: port, port2 } = new MessageChannel();
    const abort = new AbortController();
    reader.port = port;
    reader.abort = abort;
    // An answer whose pages did not all come failed with its reader's other batches.
    reader.assembly = undefined;
    reader.failure = undefined;
    reader.lostError = undefined;
    reader.listener = (first: ReaderMessage) => {
      if (reader.port === port) this.#received(reader, first, true);
    };
    port.on('message', reader.listener);
    // The port holds the process open only while it has batches.
    if (reader.waiting.length === 0) port.unref();
    for (const waiter of reader.waiting) port.postMessage(waiter.request);
    this.#pool.serve({ ...this.#task, port: port2 }, abort.signal).then(
      () => this.#ended(reader, port, new Error('its serve task ended')),
      (error: unknown) => this.#ended(reader, port, error),
    );
  }

  /**
   * Takes `first` and the messages already waiting behind it (one event for many). Paced,
   * it takes at most one page of a large answer, or messages for SLICE_MS, in one turn of
   * the event loop: then it stops the port's events (a port with no 'message' listener
   * delivers none) and takes the rest in the next turn, so timers and I/O run between.
   */
  #received(reader: Reader, first: ReaderMessage | undefined, paced: boolean): void {
    const port = reader.port!;
    const start = paced ? this.#now() : 0;
    let message = first;
    while (message !== undefined) {
      const page = this.#take(reader, port, message);
      if (paced && (page || this.#now() - start >= SLICE_MS)) {
        this.#pause(reader, port);
        return;
      }
      message = receiveMessageOnPort(port)?.message as ReaderMessage | undefined;
    }
  }

  /** Handles one message; true when it was a page of a large answer. */
  #take(reader: Reader, port: MessagePort, message: ReaderMessage): boolean {
    if (reader.assembly !== undefined) {
      if (reader.assembly.add(message as unknown[])) {
        const { response } = reader.assembly;
        reader.assembly = undefined;
        this.#answer(reader, port, response);
      }
      return true;
    }
    if (message === READER_READY) {
      reader.state = 'ready';
      reader.bootFailures = 0;
      this.#started++;
    } else if (isReaderFailed(message)) {
      reader.failure = fromWireError(message.failed);
    } else {
      // Its pages follow it: the batch is answered once the last one is in.
      reader.assembly = PageAssembly.of(message);
      if (reader.assembly === undefined) this.#answer(reader, port, message);
    }
    return false;
  }

  #answer(reader: Reader, port: MessagePort, response: ReadBatchResponse): void {
    const waiter = reader.waiting.shift();
    if (reader.waiting.length === 0) port.unref();
    waiter?.resolve(response);
  }

  /** Stops `port`'s events until the next turn of the event loop, which takes what waits. */
  #pause(reader: Reader, port: MessagePort): void {
    port.off('message', reader.listener);
    setImmediate(() => {
      // Ended meanwhile: #ended took what the port held.
      if (reader.port !== port) return;
      // Listening again refs the port: it holds the process open only while it has batches.
      port.on('message', reader.listener);
      if (reader.waiting.length === 0) port.unref();
      this.#received(reader, receiveMessageOnPort(port)?.message as ReaderMessage | undefined, true);
    });
  }

  #ended(reader: Reader, port: MessagePort, reason: unknown): void {
    if (reader.port !== port) return;
    // Answers and what it said before it ended are already queued on the port: take them.
    this.#received(reader, receiveMessageOnPort(port)?.message as ReaderMessage | undefined, false);
    port.close();
    reader.port = undefined;
    if (this.#closed) {
      this.#fail(reader, new StoreError('CLOSED', 'the reader pool is closed'));
      return;
    }
    if (reader.state === 'ready') {
      // Died serving: only its unanswered batches fail, and a new task takes its place.
      reader.state = 'starting';
      this.#fail(reader, reason instanceof Error ? reason : new Error(String(reason)));
      this.#serve(reader);
      return;
    }
    if (reader.failure !== undefined) {
      this.#down(reader, reader.failure);
      return;
    }
    const cause = reader.lostError ?? reason;
    if (++reader.bootFailures < BOOT_ATTEMPTS) {
      setTimeout(() => {
        if (!this.#closed && reader.state === 'starting' && reader.port === undefined) this.#serve(reader);
      }, 10 * reader.bootFailures).unref();
      return;
    }
    this.#down(reader, new StoreError('WORKER_CRASHED', `reader thread could not start: ${errorText(cause)}`, { cause }));
  }

  #down(reader: Reader, error: Error): void {
    reader.state = 'down';
    this.#fail(reader, error);
  }

  #fail(reader: Reader, error: Error): void {
    for (const waiter of reader.waiting.splice(0)) waiter.reject(error);
  }

  /** Closes every reader's port (its serve task then ends), and the pool with them. */
  async destroy(): Promise<void> {
    this.#closed = true;
    for (const reader of this.#readers) {
      // Its task ends when its port closes, and then fails what it left unanswered.
      if (reader.port === undefined) this.#fail(reader, new StoreError('CLOSED', 'the reader pool is closed'));
      else reader.port.close();
    }
    await this.#pool.close();
  }
}
