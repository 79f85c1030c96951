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
  type KnownVersions,
  type ListCursor,
  type StoredCheckpoint,
  type WritesToPut,
} from '../catalogue/langgraph.js';
import { DecodeCache } from '../services/decode-cache.js';
import type { StoreEngine } from '../api/engine.js';
import { configText, describeValue, storeOf } from './validate.js';
import { inSpan } from '../telemetry/instrument.js';
import { FastSerde, type Serialized } from './plain-json.js';
import { freezeShared } from './shareable.js';

/** Options of {@link AbathurSaver}'s constructor. */
export interface AbathurSaverOptions {
  /** The serializer for checkpoints, metadata and values. Default: LangGraph's JsonPlusSerializer. */
  serde?: SerializerProtocol;
  /**
   * Bound of the channel values this saver keeps decoded, in bytes of their serialized form
   * (default: the store's `decodeCacheBytes`, 64 MiB unless set; 0: none). A value is stored
   * once per (thread, namespace, channel, version) and never changes, so getTuple asks the
   * store only for the values it does not hold and decodes only those; the values it hands
   * out are then frozen and shared. A value that freezing cannot make unchangeable (one
   * holding a Map, a Set, a Date, a RegExp, bytes, or a message without an id, to which
   * LangGraph's messages reducer gives one in place) is not kept: each caller gets its own.
   */
  decodeCacheBytes?: number;
}

/** Options of {@link AbathurSaver.fromPath}: the saver's, and those of the store it opens. */
export interface AbathurSaverFromPathOptions extends AbathurSaverOptions {
  /** Options for the store the saver opens (all but `path`). */
  store?: Omit<StoreOptions, 'path'>;
}

/** What a thread's entry of the known-versions cache counts for, in bytes, beside its cache keys. */
const KNOWN_ENTRY_BYTES = 64;

/** The values a saver held of a thread's namespace after its last tuple (objects without a prototype). */
interface Held {
  /** Channel → version. */
  versions: Record<string, number | string>;
  /** Channel → the cache key of its value at that version (not built again while the version stays). */
  keys: Record<string, string>;
}

const newHeld = (): Held => ({ versions: Object.create(null) as Held['versions'], keys: Object.create(null) as Held['keys'] });

/**
 * The start of every cache key of a thread. Each name goes with its length, so that no two
 * threads, namespaces or channels make the same key (a name may hold any character, NUL too).
 */
const threadKey = (threadId: string): string => `${threadId.length}:${threadId}`;

/** The cache key of a thread's namespace: the versions it holds. */
const placeKey = (threadId: string, ns: string): string => `${threadKey(threadId)}${ns.length}:${ns}`;

/** The cache key of a channel value: values never change under one version. */
const valueKey = (threadId: string, ns: string, channel: string, version: number | string): string =>
  `${placeKey(threadId, ns)}${channel.length}:${channel}${typeof version}:${String(version)}`;

/** Checkpoints one list() call asks the store for at a time. */
const LIST_PAGE = 100;

/** Serializes every value, synchronously where each is plain JSON, else through the serializer; the value at `textAt` keeps its JSON text. */
function dumpAll(serde: FastSerde, values: readonly unknown[], textAt = -1): Serialized[] | Promise<Serialized[]> {
  const out = new Array<Serialized>(values.length);
  let pending: Promise<void>[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const fast = serde.dumpSync(values[i], i === textAt);
    if (fast !== undefined) out[i] = fast;
    else (pending ??= []).push(serde.dumpWithSerde(values[i]).then((typed) => void (out[i] = typed)));
  }
  return pending === undefined ? out : Promise.all(pending).then(() => out);
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
  /** Decoded channel values (frozen), by thread, namespace, channel and version. */
  readonly #values: DecodeCache<string, unknown>;
  /** By thread and namespace: the versions of the channel values last handed out and held in #values. */
  readonly #known: DecodeCache<string, Held>;
  /** `serde` with plain JSON written and read without JsonPlusSerializer's replacer and reviver. */
  #fast: FastSerde;
  /** deleteThread calls ended: values read before one ended are not kept (the thread may be made again under their versions). */
  #deletes = 0;

  /** A saver on an open store; closing the store is the caller's business. */
  constructor(store: Store, options?: AbathurSaverOptions) {
    super(options?.serde);
    this.#fast = new FastSerde(this.serde);
    this.#store = storeOf('AbathurSaver', store);
    this.#engine = engineOf(this.#store);
    const bytes = options?.decodeCacheBytes;
    if (bytes !== undefined && !(Number.isSafeInteger(bytes) && bytes >= 0)) {
      throw invalidArgument(`decodeCacheBytes must be an integer of 0 or more, got ${describeValue(bytes)}`);
    }
    this.#values = new DecodeCache(bytes ?? this.#engine.options.decodeCacheBytes);
    this.#known = new DecodeCache(bytes ?? this.#engine.options.decodeCacheBytes);
  }

  /** Opens (creating if needed) a store on a database file, for this saver alone; {@link close} closes it. */
  static async fromPath(path: string, options?: AbathurSaverFromPathOptions): Promise<AbathurSaver> {
    const store = await openStore({ ...options?.store, path });
    const saver = new AbathurSaver(store, {
      ...(options?.serde === undefined ? {} : { serde: options.serde }),
      ...(options?.decodeCacheBytes === undefined ? {} : { decodeCacheBytes: options.decodeCacheBytes }),
    });
    saver.#owned = true;
    return saver;
  }

  /** The store the checkpoints live in. */
  get store(): Store {
    return this.#store;
  }

  /** The serializer as this saver calls it (made again if `serde` was replaced since). */
  #serde(): FastSerde {
    if (this.#fast.serde !== this.serde) this.#fast = new FastSerde(this.serde);
    return this.#fast;
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
  override getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    return inSpan(this.#engine, 'checkpointer.getTuple', () => this.#getTuple(config));
  }

  async #getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const c = config.configurable;
    // Without a thread id there is nothing to find: undefined, not an error (the suite checks it).
    if (c?.thread_id === undefined) return undefined;
    const threadId = configText('thread_id', c.thread_id);
    const ns = c.checkpoint_ns === undefined ? '' : configText('checkpoint_ns', c.checkpoint_ns, true);
    const id = getCheckpointId(config);
    const checkpointId = id === '' ? null : configText('checkpoint_id', id);
    const held = this.#known.get(placeKey(threadId, ns));
    const known = held === undefined ? null : this.#stillHeld(held);
    let deletes = this.#deletes;
    const stored = await this.#engine.call(lgCheckpointGet, () => [threadId, ns, checkpointId, known] as const);
    if (stored === undefined) return undefined;
    const tuple = await this.#tuple(stored, deletes, held);
    if (tuple !== undefined) return tuple;
    // A value the store did not send, as this saver held it, was dropped from the cache since: read them all.
    deletes = this.#deletes;
    const whole = await this.#engine.call(lgCheckpointGet, () => [threadId, ns, checkpointId, null] as const);
    return whole === undefined ? undefined : this.#tuple(whole, deletes);
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
      const deletes = this.#deletes;
      const page = await this.#engine.call(lgCheckpointList, () => [
        { threadId, ns, checkpointId, before, filter, limit: Math.min(LIST_PAGE, remaining), after },
      ] as const);
      for (const stored of page.checkpoints) {
        // A list sends every value (it names no known versions), so a tuple always comes back.
        yield (await this.#tuple(stored, deletes))!;
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
  override put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    return inSpan(this.#engine, 'checkpointer.put', () => this.#put(config, checkpoint, metadata, newVersions));
  }

  async #put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
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
    // value is already stored under its version. A channel in newVersions without a value is stored as 'empty'.
    const present = changed.filter(([channel]) => Object.hasOwn(values, channel));
    const toDump: unknown[] = [rest, metadata];
    for (const [channel] of present) toDump.push(values[channel]);
    // The metadata's JSON text is kept, for list()'s filter; the others' are not.
    const dumped = dumpAll(this.#serde(), toDump, 1);
    const [checkpointBytes, metadataBytes, ...serialized] = Array.isArray(dumped) ? dumped : await dumped;
    let next = 0;
    const blobs = changed.map(([channel, version]): CheckpointToPut['blobs'][number] => {
      if (!Object.hasOwn(values, channel)) return [channel, version, 'empty', null];
      const typed = serialized[next++]!;
      return [channel, version, typed.type, typed.bytes];
    });
    // The metadata's JSON for list()'s filter: the serialized text itself when it is plain JSON.
    let metadataJson: string | null = metadataBytes!.json ?? null;
    if (metadataJson === null) {
      try {
        metadataJson = JSON.stringify(metadata) ?? null;
      } catch {
        metadataJson = null;
      }
    }
    const record: CheckpointToPut = {
      threadId,
      ns,
      id,
      parentId: parent,
      v,
      checkpoint: [checkpointBytes!.type, checkpointBytes!.bytes],
      channelVersions: JSON.stringify(checkpoint.channel_versions ?? {}),
      metadata: [metadataBytes!.type, metadataBytes!.bytes],
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
  override putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    return inSpan(this.#engine, 'checkpointer.putWrites', () => this.#putWrites(config, writes, taskId, taskPath));
  }

  async #putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath: string): Promise<void> {
    const c = config.configurable;
    if (c === undefined) throw invalidArgument('putWrites needs config.configurable with a thread_id and a checkpoint_id');
    const threadId = configText('thread_id', c.thread_id);
    const ns = c.checkpoint_ns === undefined ? '' : configText('checkpoint_ns', c.checkpoint_ns, true);
    const checkpointId = configText('checkpoint_id', c.checkpoint_id);
    const task = configText('taskId', taskId);
    const path = configText('taskPath', taskPath, true);
    if (!Array.isArray(writes)) throw invalidArgument(`putWrites needs an array of [channel, value] writes, got ${describeValue(writes)}`);
    const channels = writes.map((write, i): string => {
      if (!Array.isArray(write)) throw invalidArgument(`writes[${i}] must be a [channel, value] pair, got ${describeValue(write)}`);
      return configText(`writes[${i}] channel`, write[0]);
    });
    const dumped = dumpAll(
      this.#serde(),
      writes.map((write) => write[1]),
    );
    const values = Array.isArray(dumped) ? dumped : await dumped;
    // Own keys only: a channel named `constructor` or `toString` is an ordinary one.
    const special = (channel: string): boolean => Object.hasOwn(WRITES_IDX_MAP, channel);
    const indexed = channels.map((channel, i): WritesToPut['writes'][number] => [
      special(channel) ? WRITES_IDX_MAP[channel]! : i,
      channel,
      values[i]!.type,
      values[i]!.bytes,
    ]);
    const replace = indexed.length > 0 && indexed.every(([, channel]) => special(channel));
    const record: WritesToPut = { threadId, ns, checkpointId, taskId: task, taskPath: path, writes: indexed, replace };
    await this.#engine.call(lgWritesPut, () => [record] as const);
  }

  /** Deletes every checkpoint, value and write of a thread, in every namespace. */
  override deleteThread(threadId: string): Promise<void> {
    return inSpan(this.#engine, 'checkpointer.deleteThread', () => this.#deleteThread(threadId));
  }

  async #deleteThread(threadId: string): Promise<void> {
    await this.#engine.call(lgThreadDelete, () => [configText('threadId', threadId)] as const);
    this.#deletes++;
    // A new checkpoint of the thread could store other values under versions it held.
    const prefix = threadKey(threadId);
    this.#values.deleteWhere((key) => key.startsWith(prefix));
    this.#known.deleteWhere((key) => key.startsWith(prefix));
  }

  /**
   * The versions the last tuple of a thread's namespace held that #values holds still:
   * those the cache dropped since are not named, or the store would send none of their
   * bytes and the checkpoint would be read a second time.
   */
  #stillHeld(held: Held): KnownVersions {
    let kept: Record<string, number | string> | undefined;
    for (const channel in held.keys) {
      if (this.#values.get(held.keys[channel]!) !== undefined) continue;
      // One dropped: the others still held are named.
      kept = Object.create(null) as Record<string, number | string>;
      for (const other in held.keys) if (this.#values.get(held.keys[other]!) !== undefined) kept[other] = held.versions[other]!;
      break;
    }
    return kept ?? held.versions;
  }

  /**
   * The checkpoint's values, decoded, from this saver's cache where it holds them (and
   * where the store sent no bytes); undefined when a value the store did not send is no
   * longer held. Decoded values are frozen and kept, so the next tuple of the thread
   * decodes only the channels that changed.
   */
  async #channelValues(stored: StoredCheckpoint, versions: ChannelVersions, deletes: number, prior: Held | undefined): Promise<[string, unknown][] | undefined> {
    const values: [string, unknown][] = [];
    const held = newHeld();
    for (const [channel, type, bytes] of stored.values) {
      const version = Object.hasOwn(versions, channel) ? versions[channel] : undefined;
      const key =
        version === undefined
          ? undefined
          : prior !== undefined && prior.versions[channel] === version
            ? prior.keys[channel]!
            : valueKey(stored.threadId, stored.ns, channel, version);
      if (bytes === null) {
        const value = key === undefined ? undefined : this.#values.get(key);
        if (value === undefined) return undefined;
        values.push([channel, value]);
        held.versions[channel] = version!;
        held.keys[channel] = key!;
        continue;
      }
      // Sent anyway (a store that does not skip known values, or a version not yet held): decoded only if not held.
      const cached = key === undefined ? undefined : this.#values.get(key);
      if (cached !== undefined) {
        values.push([channel, cached]);
        held.versions[channel] = version!;
        held.keys[channel] = key!;
        continue;
      }
      const value: unknown = await this.#serde().load(type, bytes);
      // Kept only where freezing leaves nothing a caller can change (not a Map, a Set, bytes...),
      // and only if the cache can hold it: one it cannot is neither frozen nor named as held.
      const fits = this.#values.fits(bytes.byteLength);
      if (key !== undefined && value !== undefined && fits && deletes === this.#deletes && freezeShared(value)) {
        this.#values.set(key, value, bytes.byteLength);
        held.versions[channel] = version!;
        held.keys[channel] = key;
      }
      values.push([channel, value]);
    }
    if (this.#known.enabled && deletes === this.#deletes) {
      // Each held version counts its cache key (its own string: not always the one #values holds) and a version.
      let bytes = KNOWN_ENTRY_BYTES;
      for (const channel in held.keys) bytes += held.keys[channel]!.length * 2 + 16;
      this.#known.set(placeKey(stored.threadId, stored.ns), held, bytes);
    }
    return values;
  }

  /**
   * `deletes`: the saver's count of ended deleteThread calls when `stored` was asked for;
   * `prior`: what the saver held of the thread's namespace then, if anything.
   */
  async #tuple(stored: StoredCheckpoint, deletes: number, prior?: Held): Promise<CheckpointTuple | undefined> {
    const serde = this.#serde();
    const rest = (await serde.load(stored.checkpoint[0], stored.checkpoint[1])) as Omit<Checkpoint, 'channel_values'>;
    const [metadata, values, pendingWrites] = await Promise.all([
      serde.load(stored.metadata[0], stored.metadata[1]) as Promise<CheckpointMetadata> | CheckpointMetadata,
      this.#channelValues(stored, rest.channel_versions ?? {}, deletes, prior),
      Promise.all(
        stored.writes.map(
          async ([taskId, channel, type, bytes]): Promise<CheckpointPendingWrite> => [taskId, channel, await serde.load(type, bytes)],
        ),
      ),
    ]);
    if (values === undefined) return undefined;
    const checkpoint: Checkpoint = { ...rest, channel_values: Object.fromEntries(values) };
    if (stored.sends !== null) {
      // A checkpoint from before format 4 kept its pending sends as the parent's writes.
      checkpoint.channel_values[TASKS] = await Promise.all(stored.sends.map(([type, bytes]) => serde.load(type, bytes)));
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
