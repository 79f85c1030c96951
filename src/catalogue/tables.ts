import {
  AGENT_STATES,
  DOCUMENT_TYPES,
  MEMORY_OPERATION_TYPES,
  MEMORY_TYPES,
  SESSION_STATUSES,
  SYNC_STATUSES,
  TASK_STATUSES,
  type Agent,
  type AuditEntry,
  type Checkpoint,
  type DocumentEntry,
  type MemoryEntry,
  type Metric,
  type SessionEvent,
  type SessionInfo,
  type StateEntry,
  type Task,
} from '../api/types.js';
import { defineTable, type RowOf, type Same } from './table.js';

// Every table the catalogue reads rows of, declared once: its columns in the order
// statements select them (`TABLE.columns`), each field's conversion, and its status
// union. The decoders and the row types come from these; the checks at the bottom make
// the compiler prove each derived row type is the public type users see.

export const SESSIONS = defineTable('sessions', {
  id: 'text',
  appName: 'text',
  userId: 'text',
  projectId: 'text?',
  status: { oneOf: SESSION_STATUSES },
  eventCount: 'integer',
  state: 'object',
  metadata: 'object?',
  createdAt: 'time',
  lastUpdateTime: 'time',
  terminatedAt: 'time?',
  archivedAt: 'time?',
});

export const SESSION_EVENTS = defineTable('session_events', {
  seq: 'integer',
  eventId: 'text?',
  event: 'json',
  createdAt: 'time',
});

export const MEMORY_ENTRIES = defineTable('memory_entries', {
  id: 'integer',
  namespace: 'text',
  key: 'text',
  value: 'json',
  type: { oneOf: MEMORY_TYPES, column: 'memory_type' },
  version: 'integer',
  isDeleted: 'boolean',
  metadata: 'object?',
  createdBy: 'text?',
  updatedBy: 'text?',
  createdAt: 'time',
  updatedAt: 'time',
});

export const DOCUMENTS = defineTable('document_index', {
  id: 'integer',
  filePath: 'text',
  title: 'text',
  documentType: { oneOf: DOCUMENT_TYPES, nullable: true },
  contentHash: 'text',
  chunkCount: 'integer?',
  embeddingModel: 'text?',
  embedding: { kind: 'embedding?', column: 'embedding_blob' },
  metadata: 'object?',
  lastSyncedAt: 'time?',
  syncStatus: { oneOf: SYNC_STATUSES },
  createdAt: 'time',
  updatedAt: 'time',
});

export const TASKS = defineTable('tasks', {
  id: 'text',
  prompt: 'text',
  agentType: 'text',
  priority: 'integer',
  status: { oneOf: TASK_STATUSES },
  inputData: 'json',
  resultData: 'json?',
  errorMessage: 'text?',
  retryCount: 'integer',
  maxRetries: 'integer',
  maxExecutionTimeoutSeconds: 'integer',
  submittedAt: 'time',
  startedAt: 'time?',
  completedAt: 'time?',
  lastUpdatedAt: 'time',
  createdBy: 'text?',
  parentTaskId: 'text?',
  dependencies: 'idList',
  sessionId: 'text?',
  claimedBy: 'text?',
  claimToken: 'text?',
  leaseExpiresAt: 'time?',
});

export const AGENTS = defineTable('agents', {
  id: 'text',
  name: 'text',
  specialization: 'text',
  taskId: 'text',
  state: { oneOf: AGENT_STATES },
  model: 'text',
  spawnedAt: 'time',
  terminatedAt: 'time?',
  resourceUsage: 'json?',
  sessionId: 'text?',
});

export const CHECKPOINTS = defineTable('checkpoints', {
  taskId: 'text',
  iteration: 'integer',
  state: 'json',
  createdAt: 'time',
  sessionId: 'text?',
});

export const STATE = defineTable('state', {
  id: 'integer',
  taskId: 'text',
  key: 'text',
  value: 'json',
  createdAt: 'time',
  updatedAt: 'time',
});

export const AUDIT = defineTable('audit', {
  id: 'integer',
  timestamp: 'time',
  agentId: 'text?',
  taskId: 'text?',
  actionType: 'text',
  actionData: 'json?',
  result: 'text?',
  memoryOperationType: { oneOf: MEMORY_OPERATION_TYPES, nullable: true },
  memoryNamespace: 'text?',
  memoryEntryId: 'integer?',
});

export const METRICS = defineTable('metrics', {
  id: 'integer',
  timestamp: 'time',
  name: { kind: 'text', column: 'metric_name' },
  value: { kind: 'real', column: 'metric_value' },
  labels: 'object?',
});

/** Every declared table, for the tests that hold the declarations to the schema. */
export const TABLES = [SESSIONS, SESSION_EVENTS, MEMORY_ENTRIES, DOCUMENTS, TASKS, AGENTS, CHECKPOINTS, STATE, AUDIT, METRICS] as const;

// The derived row types are the public ones, field for field: a column added to a
// declaration but not to the public type (or the reverse) fails to compile here.
type Proven<T extends true> = T;
export type TableRowTypes = [
  Proven<Same<RowOf<typeof SESSIONS>, SessionInfo>>,
  Proven<Same<RowOf<typeof SESSION_EVENTS>, SessionEvent>>,
  Proven<Same<RowOf<typeof MEMORY_ENTRIES>, MemoryEntry>>,
  Proven<Same<RowOf<typeof DOCUMENTS>, DocumentEntry>>,
  Proven<Same<RowOf<typeof TASKS>, Task>>,
  Proven<Same<RowOf<typeof AGENTS>, Agent>>,
  Proven<Same<RowOf<typeof CHECKPOINTS>, Checkpoint>>,
  Proven<Same<RowOf<typeof STATE>, StateEntry>>,
  Proven<Same<RowOf<typeof AUDIT>, AuditEntry>>,
  Proven<Same<RowOf<typeof METRICS>, Metric>>,
];
