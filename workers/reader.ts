// A reader thread of the Piscina pool: one read-only connection, one batch per task.
import { workerData } from 'node:worker_threads';
import { createReadHandler, type ReaderConfig } from '../src/sqlite/reader-thread.js';

export default createReadHandler(workerData as ReaderConfig);
