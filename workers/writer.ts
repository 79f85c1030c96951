// The writer thread: the one read-write connection, exposed with comlink; its
// checkpointer runs on a helper thread of its own.
import { expose } from 'comlink';
import { parentPort } from 'node:worker_threads';
import { checkpointerThread } from '../src/sqlite/checkpointer-thread.js';
import { nodeEndpoint } from '../src/sqlite/node-endpoint.js';
import { Writer } from '../src/sqlite/writer-thread.js';

expose(new Writer(checkpointerThread), nodeEndpoint(parentPort!));
