// The writer's checkpointer: its own connection, PASSIVE checkpoints off the commit path.
import { parentPort, workerData } from 'node:worker_threads';
import { runCheckpointer, type CheckpointerConfig } from '../src/sqlite/checkpointer.js';

const running = runCheckpointer(workerData as CheckpointerConfig);
parentPort!.once('message', () => {
  running.stop();
  parentPort!.close();
});
