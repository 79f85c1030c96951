/** A value that survives JSON: what JSON columns accept and return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Optional audit context every write accepts: who did it, under which task. */
export interface AuditContext {
  taskId?: string;
  agentId?: string;
}

/** An ISO-8601 UTC timestamp with milliseconds, e.g. `2026-11-26T10:00:00.123Z`. */
export type Timestamp = string;

/** One page of a list and the cursor for the next page (`undefined` on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | undefined;
}

export interface ListOptions {
  /** Rows per page: default 50, at most 1000. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export type SessionStatus = 'created' | 'active' | 'paused' | 'terminated' | 'archived';

/** A session without its events: what a write that changes the session returns. */
export interface SessionInfo {
  id: string;
  appName: string;
  userId: string;
  projectId: string | null;
  status: SessionStatus;
  /** Events ever appended (trimming old ones does not lower it); the last event's seq. */
  eventCount: number;
  state: JsonObject;
  metadata: JsonObject | null;
  createdAt: Timestamp;
  lastUpdateTime: Timestamp;
  terminatedAt: Timestamp | null;
  archivedAt: Timestamp | null;
}

/** A session and the events a read asked for, oldest first (all of them unless `lastEvents` says). */
export interface Session extends SessionInfo {
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

export type MemoryType = 'semantic' | 'episodic' | 'procedural';

export interface MemoryEntry {
  id: number;
  namespace: string;
  key: string;
  value: JsonValue;
  type: MemoryType;
  version: number;
  isDeleted: boolean;
  metadata: JsonObject | null;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

export type DocumentType = 'design' | 'specification' | 'plan' | 'report';
export type SyncStatus = 'pending' | 'synced' | 'failed' | 'stale';

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

export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface Task {
  id: string;
  prompt: string;
  agentType: string;
  /** 1 is the highest priority, 10 the lowest. */
  priority: number;
  status: TaskStatus;
  inputData: JsonValue;
  resultData: JsonValue | null;
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
}

export type AgentState = 'idle' | 'working' | 'waiting' | 'terminated';

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

export interface Checkpoint {
  taskId: string;
  iteration: number;
  state: JsonValue;
  createdAt: Timestamp;
  sessionId: string | null;
}

export interface StateEntry {
  id: number;
  taskId: string;
  key: string;
  value: JsonValue;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

export type MemoryOperationType = 'create' | 'update' | 'delete' | 'consolidate' | 'publish';

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

export interface Metric {
  id: number;
  timestamp: Timestamp;
  name: string;
  value: number;
  labels: JsonObject | null;
}
