// The package's public types, in one place: what `src/index.ts` exports and what the
// published declarations name. Nothing here refers to the engine, its threads or
// better-sqlite3; a test walks the built declarations to keep it so. The only values are
// the status lists the status types derive from (exported from the package as types).

/** A value that survives JSON: what JSON columns accept and return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object: what state, metadata and labels must be. */
export type JsonObject = { [key: string]: JsonValue };

/** Optional audit context every write accepts: who did it, under which task. */
export interface AuditContext {
  taskId?: string;
  agentId?: string;
}

/**
 * What every call accepts in its last argument (its options, or its input object).
 *
 * `signal`: a call still waiting in the store's queue when the signal aborts is withdrawn
 * and rejects `ABORTED` (it never runs); a call already handed to a thread runs to its
 * end and settles as usual; an already-aborted signal rejects at once.
 */
export interface CallOptions {
  signal?: AbortSignal;
}

/** What every write accepts: a signal, and the audit context of its audit row. */
export interface WriteOptions extends CallOptions {
  ctx?: AuditContext;
}

/** An ISO-8601 UTC timestamp with milliseconds, e.g. `2026-11-26T10:00:00.123Z`. */
export type Timestamp = string;

/** One page of a list and the cursor for the next page (`undefined` on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | undefined;
}

export interface ListOptions extends CallOptions {
  /** Rows per page: default 50, at most 1000. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

// Each status union below is written once, as its runtime list; the type is derived from
// the list. The schema's CHECK constraints repeat them in SQL, and a test compares each
// CHECK, read back from sqlite_schema, with its list.

/** A session's lifecycle: created → active → (paused ↔ active) → terminated → archived. */
export const SESSION_STATUSES = ['created', 'active', 'paused', 'terminated', 'archived'] as const;
/** One of {@link SESSION_STATUSES}; `sessions.setStatus` moves a session between them. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/**
 * A session without its events: what a write that changes the session returns. `State`
 * types `state` for the caller's convenience; it is not checked when read.
 */
export interface SessionInfo<State = JsonObject> {
  id: string;
  appName: string;
  userId: string;
  projectId: string | null;
  status: SessionStatus;
  /** Events ever appended (trimming old ones does not lower it); the last event's seq. */
  eventCount: number;
  state: State;
  metadata: JsonObject | null;
  createdAt: Timestamp;
  lastUpdateTime: Timestamp;
  terminatedAt: Timestamp | null;
  archivedAt: Timestamp | null;
}

/** A session and the events a read asked for, oldest first (all of them unless `lastEvents` says). */
export interface Session<State = JsonObject> extends SessionInfo<State> {
  events: JsonValue[];
}

/** One event of a session's log, as `sessions.events` pages through it. */
export interface SessionEvent {
  /** 1, 2, 3, … per session, in append order. */
  seq: number;
  /** The caller's id for the event, if it gave one. */
  eventId: string | null;
  event: JsonValue;
  createdAt: Timestamp;
}

/** The order `sessions.events` pages in: `'asc'`, oldest first, or `'desc'`, newest first. */
export type EventOrder = 'asc' | 'desc';

/** What `sessions.appendEvent` returns. */
export interface AppendedEvent {
  /** The event's seq; for an `eventId` already in the session, the first append's seq. */
  seq: number;
  /** Events ever appended to the session, this one included. */
  eventCount: number;
  lastUpdateTime: Timestamp;
}

/** What `sessions.appendEvents` returns. */
export interface AppendedEvents {
  /** One seq per event given, in the order given. */
  seqs: number[];
  eventCount: number;
  lastUpdateTime: Timestamp;
}

/** What `sessions.trimEvents` returns. */
export interface TrimmedEvents {
  /** Events deleted by this call. */
  deleted: number;
  /** The seq of the oldest event kept; `null` when none is kept. */
  firstSeq: number | null;
  /** Unchanged by trimming: events ever appended. */
  eventCount: number;
}

/** The kinds of memory entry. Only `episodic` entries expire (`memory.expireEpisodic`). */
export const MEMORY_TYPES = ['semantic', 'episodic', 'procedural'] as const;
/** One of {@link MEMORY_TYPES}: fixed by `memory.add`, kept by every later version. */
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** One version of a memory key. `Value` types `value` for the caller; it is not checked when read. */
export interface MemoryEntry<Value = JsonValue> {
  id: number;
  namespace: string;
  key: string;
  value: Value;
  type: MemoryType;
  version: number;
  isDeleted: boolean;
  metadata: JsonObject | null;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** The kinds of indexed document, as `documents.listByType` lists them. */
export const DOCUMENT_TYPES = ['design', 'specification', 'plan', 'report'] as const;
/** One of {@link DOCUMENT_TYPES}. */
export type DocumentType = (typeof DOCUMENT_TYPES)[number];
/**
 * Where a document's embedding stands: `pending` (not embedded yet), `synced`, `failed`,
 * `stale` (its content hash changed since it was embedded).
 */
export const SYNC_STATUSES = ['pending', 'synced', 'failed', 'stale'] as const;
/** One of {@link SYNC_STATUSES}; `documents.pendingSync` lists the `pending` and `stale` ones. */
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/** A document of the index: its path, content hash and the state of its embedding. */
export interface DocumentEntry {
  id: number;
  filePath: string;
  title: string;
  documentType: DocumentType | null;
  contentHash: string;
  chunkCount: number | null;
  embeddingModel: string | null;
  /** The stored embedding, bit-identical to what `markSynced` was given. */
  embedding: Float32Array | null;
  metadata: JsonObject | null;
  lastSyncedAt: Timestamp | null;
  syncStatus: SyncStatus;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/**
 * A task's lifecycle: `pending` until claimed, `running` while an agent works on it, then
 * `completed`, `failed` (for good: no retries left, or none wanted) or `cancelled`.
 */
export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
/** One of {@link TASK_STATUSES}. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A task. `Input` and `Result` type its JSON payloads for the caller; they are not checked when read. */
export interface Task<Input = JsonValue, Result = JsonValue> {
  id: string;
  prompt: string;
  agentType: string;
  /** 1 is the highest priority, 10 the lowest. */
  priority: number;
  status: TaskStatus;
  inputData: Input;
  resultData: Result | null;
  errorMessage: string | null;
  retryCount: number;
  maxRetries: number;
  maxExecutionTimeoutSeconds: number;
  submittedAt: Timestamp;
  startedAt: Timestamp | null;
  completedAt: Timestamp | null;
  lastUpdatedAt: Timestamp;
  createdBy: string | null;
  parentTaskId: string | null;
  dependencies: string[];
  sessionId: string | null;
  /** Who holds the current (or, once it ended, the last) claim: the claiming call's `ctx.agentId`. */
  claimedBy: string | null;
  /**
   * Names the current claim and no other: `complete`, `fail` and `heartbeat` given it
   * are refused (`CONFLICT`) once the task has been claimed again or has left `running`.
   */
  claimToken: string | null;
  /** When the current claim's lease ends, unless a heartbeat extends it; null for a task not claimed under a lease. */
  leaseExpiresAt: Timestamp | null;
}

/** What an agent is doing; `terminated` is final. */
export const AGENT_STATES = ['idle', 'working', 'waiting', 'terminated'] as const;
/** One of {@link AGENT_STATES}. */
export type AgentState = (typeof AGENT_STATES)[number];

/** An agent spawned for a task, optionally in a session, with its state and resource usage. */
export interface Agent {
  id: string;
  name: string;
  specialization: string;
  taskId: string;
  state: AgentState;
  model: string;
  spawnedAt: Timestamp;
  terminatedAt: Timestamp | null;
  resourceUsage: JsonValue | null;
  sessionId: string | null;
}

/**
 * A task's saved state at one iteration: where a restarted orchestrator resumes.
 * `State` types `state` for the caller; it is not checked when read.
 */
export interface Checkpoint<State = JsonValue> {
  taskId: string;
  iteration: number;
  state: State;
  createdAt: Timestamp;
  sessionId: string | null;
}

/** One key of a task's key/value state (`store.state`, kept for the seed's callers). */
export interface StateEntry<Value = JsonValue> {
  id: number;
  taskId: string;
  key: string;
  value: Value;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** The memory operations an audit entry records, for `audit.list({ memoryOperation })`. */
export const MEMORY_OPERATION_TYPES = ['create', 'update', 'delete', 'consolidate', 'publish'] as const;
/** One of {@link MEMORY_OPERATION_TYPES}. */
export type MemoryOperationType = (typeof MEMORY_OPERATION_TYPES)[number];

/**
 * One audit row: every write writes one in its own transaction, with the caller's
 * {@link AuditContext} and, for memory operations, the namespace and entry.
 */
export interface AuditEntry {
  id: number;
  timestamp: Timestamp;
  agentId: string | null;
  taskId: string | null;
  actionType: string;
  actionData: JsonValue | null;
  result: string | null;
  memoryOperationType: MemoryOperationType | null;
  memoryNamespace: string | null;
  memoryEntryId: number | null;
}

/** One recorded value of a named metric (`metrics.record`). */
export interface Metric {
  id: number;
  timestamp: Timestamp;
  name: string;
  value: number;
  labels: JsonObject | null;
}

/** Everything an agent should know in a session: the current entries of four scopes, one snapshot. */
export interface MemoryContext<Value = JsonValue> {
  session: MemoryEntry<Value>[];
  user: MemoryEntry<Value>[];
  app: MemoryEntry<Value>[];
  project: MemoryEntry<Value>[];
  /** True when a scope held more than `limit` entries and was cut short. */
  truncated: boolean;
}

// ---- Inputs and options of the services ----------------------------------------

export interface CreateSessionInput extends WriteOptions {
  /** A UUID v4 is generated when omitted. */
  id?: string;
  appName: string;
  userId: string;
  projectId?: string | null;
  state?: JsonObject;
  metadata?: JsonObject;
}

export interface GetSessionOptions extends CallOptions {
  /** Return only the newest n events. */
  lastEvents?: number;
}

export interface SessionListOptions extends ListOptions, CallOptions {
  /** Each listed session carries its newest n events; without it, none (`events: []`). */
  lastEvents?: number;
}

export interface AppendEventOptions extends WriteOptions {
  /**
   * The caller's id for this event, unique in the session. Appending an id the session
   * already holds appends nothing and returns the first append's seq, so a retry (after
   * OUTCOME_UNKNOWN, say) never duplicates an event.
   */
  eventId?: string;
  /** Merged into the state (JSON merge patch) in the same transaction. */
  stateDelta?: JsonObject;
}

/** One event of {@link Sessions.appendEvents}. */
export interface NewEvent {
  event: JsonValue;
  /** As {@link AppendEventOptions.eventId}. */
  eventId?: string;
}

/** Options of `sessions.watch`. */
export interface WatchSessionOptions extends CallOptions {
  /** Deliver the events after this seq (exclusive). Default: the session's last seq when `watch` is called (only new events). */
  afterSeq?: number;
}

export interface SessionEventsOptions extends ListOptions {
  /** Only events with a larger seq (exclusive). */
  afterSeq?: number;
  /** Only events with a smaller seq (exclusive). */
  beforeSeq?: number;
  /** `'asc'` (default): oldest first; `'desc'`: newest first. */
  order?: EventOrder;
}

export interface AddMemoryInput extends WriteOptions {
  /** Colon-separated hierarchy, e.g. `user:alice:preferences`. */
  namespace: string;
  key: string;
  value: JsonValue;
  type: MemoryType;
  metadata?: JsonObject;
  createdBy?: string;
}

export interface UpdateMemoryOptions extends WriteOptions {
  /** Reject with CONFLICT unless the current version is this one (optimistic concurrency). */
  expectedVersion?: number;
  updatedBy?: string;
  /** Replaces the metadata; omitted, the previous version's is kept. */
  metadata?: JsonObject;
}

export interface GetMemoryOptions extends CallOptions {
  /** A named version instead of the current one. */
  version?: number;
}

export interface SearchMemoryOptions extends ListOptions {
  /** `user:alice` matches `user:alice` and `user:alice:*`, never `user:alice2`. */
  namespacePrefix: string;
  type?: MemoryType;
}

export interface ContextQuery extends CallOptions {
  sessionId: string;
  userId: string;
  appName: string;
  projectId?: string | null;
  /** Most entries per scope. Default 1000, at most 10000. */
  limit?: number;
}

export interface UpsertDocumentInput extends WriteOptions {
  filePath: string;
  title: string;
  documentType?: DocumentType | null;
  /** SHA-256 of the content; a change marks an indexed document `stale`. */
  contentHash: string;
  chunkCount?: number;
  metadata?: JsonObject;
}

export interface MarkSyncedOptions extends WriteOptions {
  /** The embedding; stored as its float32 bytes and read back bit-identical. */
  embedding?: Float32Array;
  embeddingModel?: string;
  /** The content hash the embedding was computed from: CONFLICT if the document changed since. */
  contentHash?: string;
}

export interface MarkFailedOptions extends WriteOptions {
  /** What went wrong; kept in the audit trail. */
  error?: string;
}

export interface CreateTaskInput extends WriteOptions {
  /** A UUID v4 is generated when omitted. */
  id?: string;
  prompt: string;
  inputData: JsonValue;
  agentType?: string;
  /** 1 (highest) to 10 (lowest); default 5. */
  priority?: number;
  parentTaskId?: string;
  /** Tasks that must complete before this one can be claimed. */
  dependencies?: string[];
  sessionId?: string;
  createdBy?: string;
  /** Failures that send the task back to pending before it fails for good; default 3. */
  maxRetries?: number;
  maxExecutionTimeoutSeconds?: number;
}

export interface ClaimTaskOptions extends WriteOptions {
  /** Only tasks of this agent type. */
  agentType?: string;
  /**
   * How long to wait for a claimable task when there is none now, in milliseconds (0 to
   * 24 hours); the call then resolves `undefined`. Default 0: do not wait.
   */
  waitMs?: number;
  /**
   * How long the claim holds without a heartbeat, in milliseconds (1 ms to 7 days); default
   * 5 minutes. Once it ends the task is claimable again (its retry count raised), or fails
   * when its retries are spent.
   */
  leaseMs?: number;
}

export interface HeartbeatOptions extends WriteOptions {
  /** The token of the claim to extend, from the claimed task's `claimToken`. */
  claimToken: string;
  /** The lease's new length from now, in milliseconds; default the length the claim was made with. */
  leaseMs?: number;
}

export interface FinishTaskOptions extends WriteOptions {
  /**
   * The token of the claim this call finishes: when the task has been claimed again since,
   * or its lease ended, the call is refused with `CONFLICT` and changes nothing. Without
   * it the task is finished whoever holds it.
   */
  claimToken?: string;
}

export interface FailTaskOptions extends FinishTaskOptions {
  /** False fails the task for good even with retries left. Default true. */
  retry?: boolean;
}

export interface SpawnAgentInput extends WriteOptions {
  /** A UUID v4 is generated when omitted. */
  id?: string;
  name: string;
  specialization: string;
  taskId: string;
  model: string;
  sessionId?: string;
  resourceUsage?: JsonValue;
}

export interface AgentUpdateOptions extends WriteOptions {
  /** The agent's resource usage, replacing what was recorded. */
  resourceUsage?: JsonValue;
}

export interface SaveCheckpointInput extends WriteOptions {
  taskId: string;
  iteration: number;
  state: JsonValue;
  sessionId?: string;
}

export interface AuditQuery extends ListOptions {
  taskId?: string;
  agentId?: string;
  /** Memory operations under a namespace prefix (`user:alice` covers `user:alice:*`). */
  namespacePrefix?: string;
  memoryOperation?: MemoryOperationType;
  /** Only entries at or after this time. */
  since?: Date | string | number;
}

export interface RecordMetricOptions extends WriteOptions {
  labels?: JsonObject;
}

export interface MetricQuery extends ListOptions {
  name: string;
  /** From this time (inclusive). */
  since?: Date | string | number;
  /** Up to this time (exclusive). */
  until?: Date | string | number;
}

// ---- The store -------------------------------------------------------------------

/** `'normal'` survives process crashes; `'full'` also power loss, at a cost per commit. */
export type Synchronous = 'normal' | 'full';

/** A reader thread's limits (Node's `Worker` `resourceLimits`), each in megabytes. */
export interface ReaderResourceLimits {
  /** The thread's main heap. */
  maxOldGenerationSizeMb?: number;
  /** The heap space for recently created objects. */
  maxYoungGenerationSizeMb?: number;
  /** The memory range reserved for generated code. */
  codeRangeSizeMb?: number;
  /** The thread's stack. Node's default is 4. */
  stackSizeMb?: number;
}

/** Options of {@link openStore} for a store on a SQLite file; only `path` is required. */
export interface StoreOptions {
  /** The database file. Created (with its directory's WAL and SHM files) when missing. */
  path: string;
  /** Reader threads, each with its own read-only connection. Default: cores, 1 to 4. */
  readers?: number;
  /** `'normal'` (default) survives process crashes; `'full'` also power loss, slower. */
  synchronous?: Synchronous;
  /** Calls that may wait per queue (reads, writes) before new ones get OVERLOADED. Default 10000. */
  maxQueue?: number;
  /** How long SQLite waits on a lock another process holds before the call rejects BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /** Most reads sent to a reader in one message. Default 256. */
  maxReadBatch?: number;
  /** Most writes committed in one transaction. Default 512. */
  maxWriteBatch?: number;
  /** WAL size that forces a TRUNCATE checkpoint past starving readers. Default 32 MiB. */
  walLimitBytes?: number;
  /** Size the WAL file is cut back to when it restarts (`journal_size_limit`). Default 8 MiB. */
  journalSizeLimit?: number;
  /** Period of the writer's idle checkpoint, longest back-off between forced ones, and longest gap between the checkpointer's passes while writes trickle. Default 1000. */
  checkpointIntervalMs?: number;
  /** False leaves checkpoints to SQLite's own passive auto-checkpoint alone, in the writer's commits, with no checkpointer thread. Default true. */
  manageWal?: boolean;
  /**
   * Added to the reader threads' nice value on Linux (0 to 19; elsewhere ignored). When
   * readers and the caller's thread want more CPU than there is, the caller's event loop
   * wins, which keeps its delay low. Default 5.
   */
  readerNice?: number;
  /**
   * Limits for each reader thread, passed to the reader pool (Piscina's `resourceLimits`,
   * Node's `Worker` option of the same name). A reader that outgrows its heap dies: only
   * its batches fail (`WORKER_CRASHED`) and it is replaced. Limits too small for a reader
   * to start make `openStore` reject, with the thread's own error as `cause`.
   * Default: Node's defaults.
   */
  readerResourceLimits?: ReaderResourceLimits;
  /**
   * Largest JSON payload one argument may carry, in bytes of UTF-8: an event (or a batch
   * of them), a state delta, a memory value, task input or result, checkpoint state,
   * metadata, labels. Larger ones are refused INVALID_ARGUMENT before they are queued, so
   * no call holds the one writer for long. Default 1 MiB.
   */
  maxPayloadBytes?: number;
  /**
   * Largest a session's state may grow, in bytes. A state delta that would grow it past
   * this is refused INVALID_ARGUMENT and nothing is written. Default 1 MiB.
   */
  maxStateBytes?: number;
  /**
   * Bound of the caches of decoded histories on the caller's thread, in bytes of JSON text
   * (each cache: the events of `sessions.get` and `sessions.events`, the values of memory
   * versions that `memory.get`, `history`, `search` and `context` return, the ADK session
   * service's events, the LangGraph saver's channel values). Events, memory versions and
   * channel values never change once written, so a read of a session or thread already
   * seen fetches and decodes only what is new, and a memory version's value is parsed once;
   * what they hand out is deep-frozen and shared between calls.
   * 0 turns the caches off (every read decodes all it returns, as mutable objects).
   * Default 64 MiB.
   */
  decodeCacheBytes?: number;
  /**
   * Permission bits of the files the store creates: the database, its `-wal` and `-shm`
   * files, and backups. Default `0o600` (owner only: the store holds users' data). Must
   * keep the owner's read and write bits. Files that already exist keep their mode.
   */
  fileMode?: number;
  /**
   * Where `@opentelemetry/api` (an optional peer dependency) is installed, every call is a
   * span under the caller's active context and the meter gets `stats()`'s figures; with
   * no SDK registered that costs one non-recording span per call. False turns it off.
   * Default true.
   */
  telemetry?: boolean;
}

/**
 * A store on a PostgreSQL server (through the optional peer dependency `pg`), for
 * orchestrators that span several hosts: the same services, shapes and error codes.
 */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (or `postgresql://…`; libpq query parameters such as `sslmode` are passed on). */
  url: string;
  pool?: {
    /** Connections at most. Default 10. */
    max?: number;
    /** How long a call may wait for a connection (to open one, or for one to come free) before it rejects OVERLOADED. Default 10000. */
    connectionTimeoutMs?: number;
    /** An idle connection is closed after this long (0: never). Default 10000. */
    idleTimeoutMs?: number;
  };
  /** Calls that may wait for a connection beyond `pool.max` running ones before new ones get OVERLOADED. Default 10000. */
  maxQueue?: number;
  /** The server cancels a statement that runs longer (the call rejects TIMEOUT, nothing is written); 0: no limit. Default 30000. */
  statementTimeoutMs?: number;
  /** The PostgreSQL schema the store's tables live in, created when missing. Default `abathur`. */
  schema?: string;
  /** Largest JSON payload one argument may carry, in bytes of UTF-8, as on SQLite. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * Largest a session's state may grow, in bytes, as on SQLite. PostgreSQL measures the
   * state as it prints jsonb (a space after each `:` and `,`), a little larger than compact
   * JSON. Default 1 MiB.
   */
  maxStateBytes?: number;
  /** As on SQLite: the bound of the caller's caches of decoded histories, in bytes; 0 turns them off. Default 64 MiB. */
  decodeCacheBytes?: number;
  /** As on SQLite: spans and metrics through `@opentelemetry/api` where it is installed. Default true. */
  telemetry?: boolean;
}

/** Which storage engine a store runs on. */
export type EngineKind = 'sqlite' | 'postgres';

/** Latency percentiles of one operation, in microseconds, as {@link StoreStats} reports them. */
export interface LatencySummary {
  count: number;
  /** Microseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** How many calls went in one reader message or one commit: `calls / batches` on average, and the largest. */
export interface BatchSummary {
  batches: number;
  calls: number;
  mean: number;
  max: number;
}

/**
 * What `store.stats()` returns: counters the caller's thread already keeps, so sampling
 * them asks no thread and touches no file.
 */
export interface StoreStats {
  /** The storage engine. */
  engine: EngineKind;
  /** Calls accepted and waiting: for a worker (SQLite), or for a pooled connection (PostgreSQL). */
  queues: { read: number; write: number };
  /** Reads per reader message and writes per commit since the last reset (SQLite; zeros on PostgreSQL). */
  batches: { read: BatchSummary; write: BatchSummary };
  /** Per-operation latency on the caller's side, in microseconds: accepted → settled. */
  latency: Record<string, LatencySummary>;
  /** The WAL file after the last commit, and the largest it has been (SQLite; zeros on PostgreSQL). */
  wal: { bytes: number; peakBytes: number };
  /** Threads started to replace ones that died (SQLite; zeros on PostgreSQL). */
  restarts: { readers: number; writer: number };
  /** Reader threads (SQLite); 0 on PostgreSQL. */
  readers: number;
  /** The payload limits calls are checked against before they are queued (bytes). */
  limits: { maxPayloadBytes: number; maxStateBytes: number };
  /** The connection pool (PostgreSQL only): its bound, open connections, idle ones, calls waiting for one. */
  pool?: { max: number; total: number; idle: number; waiting: number };
}

/** The result of `backup`. */
export interface BackupResult {
  /** The backup's absolute path. */
  path: string;
  bytes: number;
}

/** How one index requirement is met, or why it is not. */
export interface IndexFinding {
  requirement: string;
  table: string;
  /** The required key, e.g. `status, last_update_time DESC`. */
  columns: string;
  where?: string;
  satisfied: boolean;
  /** The index that serves it: its own name, another index, or the table's rowid. */
  servedBy?: string;
  problem?: string;
}

/** A row whose parent row is missing, as SQLite's `foreign_key_check` reports it. */
export interface ForeignKeyViolation {
  table: string;
  rowid: number | null;
  parent: string;
  fkid: number;
}

/** The query plan of one catalogue statement, and whether it is acceptable. */
export interface StatementPlan {
  operation: string;
  statement: string;
  plan: string[];
  /** Plan lines that read a whole table or a whole index. */
  scans: string[];
  /** Plan lines that sort or de-duplicate the result in a temporary B-tree. */
  tempBtrees: string[];
  /**
   * Plan lines that sort only rows tied on the index's order (`LAST TERM` / `RIGHT
   * PART OF ORDER BY`): the index gives the order, SQLite orders each run of equal
   * keys (rows written in the same millisecond) by id. Not a problem; reported.
   */
  tieSorts: string[];
  /** Why a scan or temp B-tree here is accepted, when it is. */
  accepted?: string;
  ok: boolean;
}

/**
 * What `store.check()` found: integrity, foreign keys, the journal mode, the schema
 * version, the 33 index requirements and, when asked, every catalogue statement's plan.
 * `ok` is true only when all of them pass.
 */
export interface CheckReport {
  /** The engine checked. */
  engine: EngineKind;
  /** The database file; on PostgreSQL, the server URL without its password. */
  path: string;
  ok: boolean;
  schemaVersion: number;
  expectedSchemaVersion: number;
  /**
   * `['ok']` when the database is sound; otherwise what `integrity_check` found (SQLite),
   * or the invalid indexes and never-validated constraints (PostgreSQL).
   */
  integrity: string[];
  /** Rows whose parent is missing (SQLite's `foreign_key_check`; PostgreSQL enforces them, so none). */
  foreignKeyViolations: ForeignKeyViolation[];
  /** `wal` (PostgreSQL always writes ahead). */
  journalMode: string;
  /** Foreign keys enforced on the checking connection (SQLite's pragma; PostgreSQL's session_replication_role = origin). */
  foreignKeys: boolean;
  indexes: IndexFinding[];
  indexesSatisfied: number;
  /** Indexes beyond the 33 requirements (each added for a query the store runs). */
  extraIndexes: string[];
  /** The plan of every catalogue statement, when asked for. */
  plans?: StatementPlan[];
}
