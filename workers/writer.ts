// The writer thread: the one read-write connection, exposed with comlink.
import { expose } from 'comlink';
import { parentPort } from 'node:worker_threads';
import { nodeEndpoint } from '../src/sqlite/node-endpoint.js';
import { Writer } from '../src/sqlite/writer-thread.js';

expose(new Writer(), nodeEndpoint(parentPort!));
