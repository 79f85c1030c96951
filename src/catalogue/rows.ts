import type {
  Agent,
  AuditEntry,
  Checkpoint,
  DocumentEntry,
  JsonObject,
  JsonValue,
  MemoryEntry,
  Metric,
  Session,
  SessionInfo,
  StateEntry,
  Task,
} from '../api/types.js';

// Row decoders: SQLite rows to the public shapes (camelCase, JSON parsed). Statements
// select each table's column list below in `raw` mode, and the decoder right under the
// list reads the same positions: arrays cost about half what row objects do on a wide
// table, and this runs for every row a worker returns.

export type RawRow = readonly unknown[];

const json = (text: unknown): JsonValue => JSON.parse(text as string) as JsonValue;
const jsonOrNull = (text: unknown): JsonValue | null => (text == null ? null : json(text));

export const SESSION_COLUMNS =
  'id, app_name, user_id, project_id, status, event_count, state, metadata, created_at, last_update_time, terminated_at, archived_at';

/** A session row without its events (they are rows of session_events, read separately). */
export function sessionInfoFromRow(r: RawRow): SessionInfo {
  return {
    id: r[0] as string,
    appName: r[1] as string,
    userId: r[2] as string,
    projectId: r[3] as string | null,
    status: r[4] as Session['status'],
    eventCount: r[5] as number,
    state: json(r[6]) as JsonObject,
    metadata: jsonOrNull(r[7]) as JsonObject | null,
    createdAt: r[8] as string,
    lastUpdateTime: r[9] as string,
    terminatedAt: r[10] as string | null,
    archivedAt: r[11] as string | null,
  };
}

/** A session row with the events read for it (event texts, oldest first). */
export function sessionFromRow(r: RawRow, events: readonly string[]): Session {
  const session = sessionInfoFromRow(r) as Session;
  session.events = events.map(json);
  return session;
}

export const MEMORY_COLUMNS =
  'id, namespace, key, value, memory_type, version, is_deleted, metadata, created_by, updated_by, created_at, updated_at';

export function memoryFromRow(r: RawRow): MemoryEntry {
  return {
    id: r[0] as number,
    namespace: r[1] as string,
    key: r[2] as string,
    value: json(r[3]),
    type: r[4] as MemoryEntry['type'],
    version: r[5] as number,
    isDeleted: r[6] === 1,
    metadata: jsonOrNull(r[7]) as JsonObject | null,
    createdBy: r[8] as string | null,
    updatedBy: r[9] as string | null,
    createdAt: r[10] as string,
    updatedAt: r[11] as string,
  };
}

/** Copies a stored blob into a fresh, aligned Float32Array (the bytes are kept as written). */
export function embeddingFromBlob(blob: unknown): Float32Array | null {
  if (blob == null) return null;
  const bytes = blob as Uint8Array;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

export const DOCUMENT_COLUMNS =
  'id, file_path, title, document_type, content_hash, chunk_count, embedding_model, embedding_blob, metadata, ' +
  'last_synced_at, sync_status, created_at, updated_at';

export function documentFromRow(r: RawRow): DocumentEntry {
  return {
    id: r[0] as number,
    filePath: r[1] as string,
    title: r[2] as string,
    documentType: r[3] as DocumentEntry['documentType'],
    contentHash: r[4] as string,
    chunkCount: r[5] as number | null,
    embeddingModel: r[6] as string | null,
    embedding: embeddingFromBlob(r[7]),
    metadata: jsonOrNull(r[8]) as JsonObject | null,
    lastSyncedAt: r[9] as string | null,
    syncStatus: r[10] as DocumentEntry['syncStatus'],
    createdAt: r[11] as string,
    updatedAt: r[12] as string,
  };
}

export const TASK_COLUMNS =
  'id, prompt, agent_type, priority, status, input_data, result_data, error_message, retry_count, max_retries, ' +
  'max_execution_timeout_seconds, submitted_at, started_at, completed_at, last_updated_at, created_by, ' +
  'parent_task_id, dependencies, session_id';

export function taskFromRow(r: RawRow): Task {
  return {
    id: r[0] as string,
    prompt: r[1] as string,
    agentType: r[2] as string,
    priority: r[3] as number,
    status: r[4] as Task['status'],
    inputData: json(r[5]),
    resultData: jsonOrNull(r[6]),
    errorMessage: r[7] as string | null,
    retryCount: r[8] as number,
    maxRetries: r[9] as number,
    maxExecutionTimeoutSeconds: r[10] as number,
    submittedAt: r[11] as string,
    startedAt: r[12] as string | null,
    completedAt: r[13] as string | null,
    lastUpdatedAt: r[14] as string,
    createdBy: r[15] as string | null,
    parentTaskId: r[16] as string | null,
    dependencies: (jsonOrNull(r[17]) ?? []) as string[],
    sessionId: r[18] as string | null,
  };
}

export const AGENT_COLUMNS =
  'id, name, specialization, task_id, state, model, spawned_at, terminated_at, resource_usage, session_id';

export function agentFromRow(r: RawRow): Agent {
  return {
    id: r[0] as string,
    name: r[1] as string,
    specialization: r[2] as string,
    taskId: r[3] as string,
    state: r[4] as Agent['state'],
    model: r[5] as string,
    spawnedAt: r[6] as string,
    terminatedAt: r[7] as string | null,
    resourceUsage: jsonOrNull(r[8]),
    sessionId: r[9] as string | null,
  };
}

export const CHECKPOINT_COLUMNS = 'task_id, iteration, state, created_at, session_id';

export function checkpointFromRow(r: RawRow): Checkpoint {
  return {
    taskId: r[0] as string,
    iteration: r[1] as number,
    state: json(r[2]),
    createdAt: r[3] as string,
    sessionId: r[4] as string | null,
  };
}

export const STATE_COLUMNS = 'id, task_id, key, value, created_at, updated_at';

export function stateFromRow(r: RawRow): StateEntry {
  return {
    id: r[0] as number,
    taskId: r[1] as string,
    key: r[2] as string,
    value: json(r[3]),
    createdAt: r[4] as string,
    updatedAt: r[5] as string,
  };
}

export const AUDIT_COLUMNS =
  'id, timestamp, agent_id, task_id, action_type, action_data, result, memory_operation_type, memory_namespace, ' +
  'memory_entry_id';

export function auditFromRow(r: RawRow): AuditEntry {
  return {
    id: r[0] as number,
    timestamp: r[1] as string,
    agentId: r[2] as string | null,
    taskId: r[3] as string | null,
    actionType: r[4] as string,
    actionData: jsonOrNull(r[5]),
    result: r[6] as string | null,
    memoryOperationType: r[7] as AuditEntry['memoryOperationType'],
    memoryNamespace: r[8] as string | null,
    memoryEntryId: r[9] as number | null,
  };
}

export const METRIC_COLUMNS = 'id, timestamp, metric_name, metric_value, labels';

export function metricFromRow(r: RawRow): Metric {
  return {
    id: r[0] as number,
    timestamp: r[1] as string,
    name: r[2] as string,
    value: r[3] as number,
    labels: jsonOrNull(r[4]) as JsonObject | null,
  };
}
