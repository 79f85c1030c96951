// The writer thread: the one read-write connection, exposed with comlink.
import { expose } from 'comlink';
import { nodeEndpoint } from '../src/sqlite/node-endpoint.js';
import { parentPort } from 'node:worker_threads';
import { createWriterApi } from '../src/sqlite/writer-thread.js';

expose(createWriterApi(), nodeEndpoint(parentPort!));
