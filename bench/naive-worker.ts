// A thread of the naive baseline pool: one task per call, on its own read-write connection.
import { workerData } from 'node:worker_threads';
import { catalogueConnection } from './catalogue-connection.js';
import type { OperationCall, Synchronous } from '../src/internal.js';

const { run } = catalogueConnection((workerData as { path: string }).path, (workerData as { synchronous: Synchronous }).synchronous);

export default ({ call }: { call: OperationCall }): unknown => run(call);
