import { Worker } from 'node:worker_threads';
import { fromWireError, StoreError } from '../api/errors.js';
import { workerFile } from '../paths.js';
import type { SnapshotOutcome } from './backup-file.js';
import type { SnapshotRunner } from './backups.js';

/**
 * Runs a backup's copy on a short-lived thread of its own (`workers/backup`): its own
 * read-only connection, one VACUUM INTO, then the thread ends. Only real threads exercise
 * this; the copy itself is `copySnapshot`, which tests drive in-process.
 */
export const runSnapshotOnThread: SnapshotRunner = (job) =>
  new Promise<void>((resolve, reject) => {
    const worker = new Worker(workerFile('backup'), { workerData: job });
    let answered = false;
    // Failures surface through 'exit'; an 'error' event without a listener would throw here.
    worker.on('error', () => {});
    worker.once('message', (outcome: SnapshotOutcome) => {
      answered = true;
      if (outcome.ok) resolve();
      else reject(fromWireError(outcome.error));
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new StoreError('WORKER_CRASHED', `backup thread exited with code ${code} before the copy was whole`));
    });
  });
