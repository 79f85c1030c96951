// A reader thread of the Piscina pool. Its one task serves reads for the thread's whole
// life: one read-only connection, answering batches on the port the task was given.
export { serveReads as default } from '../src/sqlite/reader-thread.js';
