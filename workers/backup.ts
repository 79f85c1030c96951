// A backup's copy: its own read-only connection, one VACUUM INTO a temporary file, then it ends.
import { parentPort, workerData } from 'node:worker_threads';
import { snapshotOutcome, type SnapshotJob } from '../src/sqlite/backup-file.js';

parentPort!.postMessage(snapshotOutcome(workerData as SnapshotJob));
