import { Worker } from 'node:worker_threads';
import { workerFile } from '../paths.js';
import { execArgvOption } from './exec-argv.js';
import type { StartCheckpointer } from './checkpointer.js';

/**
 * The checkpointer on a helper thread of the writer's (`workers/checkpointer`). It ends
 * with the writer's thread, and never holds the process open.
 */
export const checkpointerThread: StartCheckpointer = (config) => {
  const worker = new Worker(workerFile('checkpointer'), { workerData: config, ...execArgvOption() });
  // A helper that fails only stops copying early; the writer's WAL limit still holds.
  worker.on('error', () => {});
  worker.unref();
  return {
    stop() {
      worker.postMessage('stop');
    },
  };
};
