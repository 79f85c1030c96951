import { rmSync, statSync } from 'node:fs';
import { listenForAbort } from '../api/abort-listeners.js';
import { aborted, StoreError, toStoreError } from '../api/errors.js';
import type { BackupResult } from '../api/types.js';
import { publish, tempPathFor, type SnapshotJob } from './backup-file.js';
import { createDirectoryFor } from './files.js';

/**
 * Runs one copy off the caller's thread (a thread of its own: src/sqlite/backup-thread.ts)
 * and settles once the copy is whole and synced, or rejects with why it is not.
 */
export type SnapshotRunner = (job: SnapshotJob) => Promise<void>;

export interface BackupsConfig {
  /** The store's database file. */
  path: string;
  fileMode: number;
  busyTimeoutMs: number;
  /** Backups that may wait, as for the read and write queues: past it a backup is refused OVERLOADED. */
  maxQueue: number;
}

/**
 * The store's backups: one at a time (two copies at once would only share the disk),
 * each copied by the runner into a temporary file and then published under its name. A
 * backup still waiting is withdrawn by its signal; `close` lets the accepted ones finish.
 */
export class Backups {
  readonly #config: BackupsConfig;
  readonly #run: SnapshotRunner;
  /** The last accepted backup, settled or not: the next one starts after it. */
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #closed = false;

  constructor(config: BackupsConfig, run: SnapshotRunner) {
    this.#config = config;
    this.#run = run;
  }

  /** Backups accepted and not yet settled. */
  get queueDepth(): number {
    return this.#waiting;
  }

  /**
   * Copies the database to `destination` (an absolute path that must not exist). Rejects
   * CONFLICT when the name is taken, before or during the copy; nothing is left behind by
   * a backup that fails.
   */
  backup(destination: string, signal?: AbortSignal): Promise<BackupResult> {
    if (this.#closed) return Promise.reject(new StoreError('CLOSED', 'store is closed; backup was not run'));
    if (signal?.aborted) return Promise.reject(aborted('backup', signal));
    if (this.#waiting >= this.#config.maxQueue) {
      return Promise.reject(new StoreError('OVERLOADED', `backup queue is full (${this.#config.maxQueue} waiting); backup was not run, retry later`));
    }
    if (statOrUndefined(destination) !== undefined) {
      return Promise.reject(new StoreError('CONFLICT', `backup destination ${destination} already exists`));
    }
    try {
      // A missing directory is made owner-only, as openStore makes the database's.
      createDirectoryFor(destination, this.#config.fileMode);
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
    this.#waiting++;
    const turn = this.#tail;
    const result = new Promise<BackupResult>((resolve, reject) => {
      let withdrawn = false;
      const detach = signal === undefined ? undefined : listenForAbort(signal, () => {
        withdrawn = true;
        reject(aborted('backup', signal));
      });
      void turn.then(async () => {
        detach?.();
        if (withdrawn) return;
        try {
          resolve(await this.#copy(destination));
        } catch (error) {
          reject(toStoreError(error));
        }
      });
    });
    this.#tail = result.then(
      () => this.#waiting--,
      () => this.#waiting--,
    );
    return result;
  }

  /** Stops accepting backups (they reject CLOSED); resolves when every accepted one has settled. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail;
  }

  async #copy(destination: string): Promise<BackupResult> {
    const temp = tempPathFor(destination);
    try {
      await this.#run({ source: this.#config.path, temp, mode: this.#config.fileMode, busyTimeoutMs: this.#config.busyTimeoutMs });
    } catch (error) {
      // The copying thread removes its file when the copy fails; one that died did not.
      rmSync(temp, { force: true });
      throw error;
    }
    publish(temp, destination);
    return { path: destination, bytes: statSync(destination).size };
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
