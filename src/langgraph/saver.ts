import {
  BaseCheckpointSaver,
  getCheckpointId,
  maxChannelVersion,
  TASKS,
  WRITES_IDX_MAP,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { invalidArgument } from '../api/errors.js';
import type { StoreOptions } from '../api/options.js';
import { engineOf, openStore, type Store } from '../store.js';
import {
  lgCheckpointGet,
  lgCheckpointList,
  lgCheckpointPut,
  lgThreadDelete,
  lgWritesPut,
  type CheckpointToPut,
  type ListCursor,
  type StoredCheckpoint,
  type Typed,
  type WritesToPut,
} from '../catalogue/langgraph.js';
import type { StoreEngine } from '../api/engine.js';
import { configText, describeValue, storeOf } from './validate.js';

/** Options of {@link AbathurSaver}'s constructor. */
export interface AbathurSaverOptions {
  /** The serializer for checkpoints, metadata and values. Default: LangGraph's JsonPlusSerializer. */
  serde?: SerializerProtocol;
}

/** Options of {@link AbathurSaver.fromPath}: the saver's, and those of the store it opens. */
export interface AbathurSaverFromPathOptions extends AbathurSaverOptions {
  /** Options for the store the saver opens (all but `path`). */
  store?: Omit<StoreOptions, 'path'>;
}

/** Checkpoints one list() call asks the store for at a time. */
const LIST_PAGE = 100;

/** Values a serializer returns as the caller's own bytes: copied, so a later change to them cannot reach the database. */
async function dump(serde: SerializerProtocol, value: unknown): Promise<Typed> {
  const [type, bytes] = await serde.dumpsTyped(value);
  return [type, type === 'bytes' ? bytes.slice() : bytes];
}

/**
 * A LangGraph.js checkpointer on an abathur-store store, on either engine. Checkpoints,
 * their channel values and pending writes live in the store's tables `lg_*`: on SQLite
 * reads run on the store's reader threads and writes go through its writer's group commit,
 * so 64 graphs checkpointing at once never block the caller's event loop on SQL; on
 * PostgreSQL each call is one transaction on the store's pool.
 *
 * A checkpoint that changes one channel stores that channel's value only: values are
 * kept once per (channel, version), as LangGraph's Postgres saver keeps them.
 *
 * @example
 * const store = await openStore({ path: './data/agents.db' });
 * const graph = builder.compile({ checkpointer: new AbathurSaver(store) });
 * await graph.invoke(input, { configurable: { thread_id: 'thread-1' } });
 */
export class AbathurSaver extends BaseCheckpointSaver<number> {
  readonly #store: Store;
  readonly #engine: StoreEngine;
  #owned = false;

  /** A saver on an open store; closing the store is the caller's business. */
  constructor(store: Store, options?: AbathurSaverOptions) {
    super(options?.serde);
    this.#store = storeOf('AbathurSaver', store);
    this.#engine = engineOf(this.#store);
  }

  /** Opens (creating if needed) a store on a database file, for this saver alone; {@link close} closes it. */
  static async fromPath(path: string, options?: AbathurSaverFromPathOptions): Promise<AbathurSaver> {
    const store = await openStore({ ...options?.store, path });
    const saver = new AbathurSaver(store, options?.serde === undefined ? undefined : { serde: options.serde });
    saver.#owned = true;
    return saver;
  }

  /** The store the checkpoints live in. */
  get store(): Store {
    return this.#store;
  }

  /** Closes the store if {@link fromPath} opened it; a store passed in stays open. */
  async close(): Promise<void> {
    if (this.#owned) await this.#store.close();
  }

  /**
   * The next version of a channel: the next integer plus a random fraction below 0.5, so
   * versions still grow by step, but a fork (an update of an old checkpoint, then a run
   * from it) never reuses a version its sibling branch stored a different value under.
   */
  override getNextVersion(current: number | undefined): number {
    const whole = current === undefined ? 0 : Math.floor(Number(current));
    return whole + 1 + Math.random() / 2;
  }

  /**
   * The checkpoint `config` names by `checkpoint_id`, or else the thread's newest in its
   * namespace, with its values and pending writes; `undefined` when there is none.
   */
  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const c = config.configurable;
    // Without a thread id there is nothing to find: undefined, not an error (the suite checks it).
    if (c?.thread_id === undefined) return undefined;
    const threadId = configText('thread_id', c.thread_id);
    const ns = c.checkpoint_ns === undefined ? '' : configText('checkpoint_ns', c.checkpoint_ns, true);
    const id = getCheckpointId(config);
    const stored = await this.#engine.call(lgCheckpointGet, () => [threadId, ns, id === '' ? null : configText('checkpoint_id', id)] as const);
    return stored === undefined ? undefined : this.#tuple(stored);
  }

  /**
   * Checkpoints newest first: of one thread (or of all, without `thread_id`), in one
   * namespace (or all, without `checkpoint_ns`), older than `before`, whose metadata
   * equals `filter` key by key (compared as JSON), at most `limit` of them.
   */
  override async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const c = config.configurable ?? {};
    const threadId = c.thread_id === undefined || c.thread_id === null ? null : configText('thread_id', c.thread_id);
    const ns = c.checkpoint_ns === undefined || c.checkpoint_ns === null ? null : configText('checkpoint_ns', c.checkpoint_ns, true);
    const checkpointId = c.checkpoint_id === undefined || c.checkpoint_id === null ? null : configText('checkpoint_id', c.checkpoint_id);
    const beforeId = options?.before?.configurable?.checkpoint_id as unknown;
    const before = beforeId === undefined || beforeId === null ? null : configText('before.checkpoint_id', beforeId);
    const filter: [string, string][] = [];
    for (const [key, value] of Object.entries(options?.filter ?? {})) {
      if (value === undefined) continue;
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch {
        json = undefined;
      }
      if (json === undefined) throw invalidArgument(`list filter ${key} must be a JSON value, got ${describeValue(value)}`);
      filter.push([key, json]);
    }
    const limit = options?.limit;
    if (limit !== undefined && (typeof limit !== 'number' || Number.isNaN(limit))) {
      throw invalidArgument(`list limit must be a number, got ${describeValue(limit)}`);
    }
    let remaining = limit === undefined ? Infinity : limit;
    let after: ListCursor | null = null;
    while (remaining > 0) {
      const page = await this.#engine.call(lgCheckpointList, () => [
        { threadId, ns, checkpointId, before, filter, limit: Math.min(LIST_PAGE, remaining), after },
      ] as const);
      for (const stored of page.checkpoints) {
        yield await this.#tuple(stored);
        remaining--;
      }
      if (page.next === null) return;
      after = page.next;
    }
  }

  /**
   * Stores a checkpoint and its metadata with the values of the channels in `newVersions`
   * only (the others are stored under their versions already), in one write; returns the
   * config that names the new checkpoint.
   */
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const c = config.configurable;
    if (c === undefined) throw invalidArgument('put needs config.configurable with a thread_id');
    const threadId = configText('thread_id', c.thread_id);
    const ns = c.checkpoint_ns === undefined ? '' : configText('checkpoint_ns', c.checkpoint_ns, true);
    const parent = c.checkpoint_id === undefined || c.checkpoint_id === null ? null : configText('checkpoint_id', c.checkpoint_id);
    if (typeof checkpoint !== 'object' || checkpoint === null) throw invalidArgument(`put needs a checkpoint, got ${describeValue(checkpoint)}`);
    const id = configText('checkpoint.id', checkpoint.id);
    const v = checkpoint.v;
    if (!Number.isSafeInteger(v)) throw invalidArgument(`checkpoint.v must be an integer, got ${describeValue(v)}`);
    if (typeof newVersions !== 'object' || newVersions === null) throw invalidArgument(`put needs newVersions, got ${describeValue(newVersions)}`);

    const { channel_values: values = {}, ...rest } = checkpoint;
    const changed = Object.entries(newVersions);
    for (const [channel, version] of changed) {
      if (!(typeof version === 'string' || (typeof version === 'number' && Number.isFinite(version)))) {
        throw invalidArgument(`newVersions.${channel} must be a number or a string, got ${describeValue(version)}`);
      }
    }
    // Only the channels in newVersions are serialized and stored: an unchanged channel's
    // value is already stored under its version.
    const [checkpointBytes, metadataBytes, ...serialized] = await Promise.all([
      dump(this.serde, rest),
      dump(this.serde, metadata),
      ...changed.map(([channel]) => (Object.hasOwn(values, channel) ? dump(this.serde, values[channel]) : undefined)),
    ]);
    const blobs = changed.map(([channel, version], i): CheckpointToPut['blobs'][number] => {
      const typed = serialized[i];
      return typed === undefined ? [channel, version, 'empty', null] : [channel, version, typed[0], typed[1]];
    });
    let metadataJson: string | null;
    try {
      metadataJson = JSON.stringify(metadata) ?? null;
    } catch {
      metadataJson = null;
    }
    const record: CheckpointToPut = {
      threadId,
      ns,
      id,
      parentId: parent,
      v,
      checkpoint: checkpointBytes,
      channelVersions: JSON.stringify(checkpoint.channel_versions ?? {}),
      metadata: metadataBytes,
      metadataJson,
      blobs,
    };
    await this.#engine.call(lgCheckpointPut, () => [record] as const);
    return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: id } };
  }

  /**
   * Stores a task's writes against a checkpoint (which may not be stored yet: LangGraph
   * sends writes before their checkpoint when durability is "async"). A call of special
   * channels only (errors, interrupts, resumes) replaces what the task stored at those
   * indexes; any other call keeps writes already stored.
   */
  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    const c = config.configurable;
    if (c === undefined) throw invalidArgument('putWrites needs config.configurable with a thread_id and a checkpoint_id');
    const threadId = configText('thread_id', c.thread_id);
    const ns = c.checkpoint_ns === undefined ? '' : configText('checkpoint_ns', c.checkpoint_ns, true);
    const checkpointId = configText('checkpoint_id', c.checkpoint_id);
    const task = configText('taskId', taskId);
    const path = configText('taskPath', taskPath, true);
    if (!Array.isArray(writes)) throw invalidArgument(`putWrites needs an array of [channel, value] writes, got ${describeValue(writes)}`);
    const indexed = await Promise.all(
      writes.map(async (write, i): Promise<WritesToPut['writes'][number]> => {
        if (!Array.isArray(write)) throw invalidArgument(`writes[${i}] must be a [channel, value] pair, got ${describeValue(write)}`);
        const channel = configText(`writes[${i}] channel`, write[0]);
        const [type, bytes] = await dump(this.serde, write[1]);
        return [WRITES_IDX_MAP[channel] ?? i, channel, type, bytes];
      }),
    );
    const replace = indexed.length > 0 && indexed.every(([, channel]) => channel in WRITES_IDX_MAP);
    const record: WritesToPut = { threadId, ns, checkpointId, taskId: task, taskPath: path, writes: indexed, replace };
    await this.#engine.call(lgWritesPut, () => [record] as const);
  }

  /** Deletes every checkpoint, value and write of a thread, in every namespace. */
  override async deleteThread(threadId: string): Promise<void> {
    await this.#engine.call(lgThreadDelete, () => [configText('threadId', threadId)] as const);
  }

  async #tuple(stored: StoredCheckpoint): Promise<CheckpointTuple> {
    const serde = this.serde;
    const [rest, metadata, values, pendingWrites] = await Promise.all([
      serde.loadsTyped(stored.checkpoint[0], stored.checkpoint[1]) as Promise<Omit<Checkpoint, 'channel_values'>>,
      serde.loadsTyped(stored.metadata[0], stored.metadata[1]) as Promise<CheckpointMetadata>,
      Promise.all(stored.values.map(async ([channel, type, bytes]) => [channel, await serde.loadsTyped(type, bytes)] as const)),
      Promise.all(
        stored.writes.map(
          async ([taskId, channel, type, bytes]): Promise<CheckpointPendingWrite> => [taskId, channel, await serde.loadsTyped(type, bytes)],
        ),
      ),
    ]);
    const checkpoint: Checkpoint = { ...rest, channel_values: Object.fromEntries(values) };
    if (stored.sends !== null) {
      // A checkpoint from before format 4 kept its pending sends as the parent's writes.
      checkpoint.channel_values[TASKS] = await Promise.all(stored.sends.map(([type, bytes]) => serde.loadsTyped(type, bytes)));
      const versions = Object.values(checkpoint.channel_versions);
      checkpoint.channel_versions[TASKS] = versions.length > 0 ? versions.reduce((most, version) => maxChannelVersion(most, version)) : this.getNextVersion(undefined);
    }
    const config = (id: string): RunnableConfig => ({
      configurable: { thread_id: stored.threadId, checkpoint_ns: stored.ns, checkpoint_id: id },
    });
    return {
      config: config(stored.id),
      checkpoint,
      metadata,
      parentConfig: stored.parentId === null ? undefined : config(stored.parentId),
      pendingWrites,
    };
  }
}
