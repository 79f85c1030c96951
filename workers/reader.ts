// A reader thread: one read-only connection, answering batches from its channel in order.
import { workerData } from 'node:worker_threads';
import { serveReads, type ReaderThreadData } from '../src/sqlite/reader-thread.js';

serveReads(workerData as ReaderThreadData);
