import { defineTable } from './table.js';

// The framework adapters' tables (SQLite migrations 003 and 004, PostgreSQL migrations 003
// and 004), declared once as the core tables are in tables.ts: their columns in the order
// statements select them and each column's conversion. Both engines hold the same columns;
// where their types differ the declaration says how each engine's value decodes.

/**
 * A checkpoint as the reads return it. Not declared: `channel_versions`, `metadata_json`
 * and `created_at`, which the statements read in SQL (to find values, to filter) and
 * never return.
 */
export const LG_CHECKPOINTS = defineTable('lg_checkpoints', {
  threadId: 'text',
  checkpointNs: 'text',
  checkpointId: 'text',
  parentCheckpointId: 'text?',
  v: 'integer',
  checkpointType: 'text',
  checkpoint: 'bytes',
  metadataType: 'text',
  metadata: 'bytes',
});

export const LG_CHECKPOINT_BLOBS = defineTable('lg_checkpoint_blobs', {
  threadId: 'text',
  checkpointNs: 'text',
  channel: 'text',
  // PostgreSQL's jsonb, a JSON number or string. (SQLite's ANY column returns the number
  // or string itself; its statements do not decode this table through here.)
  version: 'json',
  type: 'text',
  value: 'bytes?',
});

export const LG_CHECKPOINT_WRITES = defineTable('lg_checkpoint_writes', {
  threadId: 'text',
  checkpointNs: 'text',
  checkpointId: 'text',
  taskId: 'text',
  idx: 'integer',
  channel: 'text',
  type: 'text',
  value: 'bytes?',
  taskPath: 'text',
});

/** A memory store item. The namespace is the stored one, its labels joined by U+001F. */
export const LG_STORE = defineTable('lg_store', {
  namespace: 'text',
  key: 'text',
  value: 'object',
  createdAt: 'time',
  updatedAt: 'time',
  ttlMinutes: 'real?',
  expiresAt: 'time?',
});

export const LG_STORE_VECTORS = defineTable('lg_store_vectors', {
  namespace: 'text',
  key: 'text',
  field: 'text',
  // SQLite: packed float32; PostgreSQL: real[].
  embedding: 'embedding',
  norm: 'real',
});

export const ADK_SESSIONS = defineTable('adk_sessions', {
  appName: 'text',
  userId: 'text',
  id: 'text',
  sessionId: 'text',
  lastUpdateTime: 'real',
  version: 'integer',
  replacements: 'integer',
});

export const ADK_APP_STATES = defineTable('adk_app_states', {
  appName: 'text',
  state: 'object',
  updatedAt: 'time',
});

export const ADK_USER_STATES = defineTable('adk_user_states', {
  appName: 'text',
  userId: 'text',
  state: 'object',
  updatedAt: 'time',
});

/** Every adapter table declared, for the tests that hold the declarations to both schemas. */
export const ADAPTER_TABLES = [
  LG_CHECKPOINTS,
  LG_CHECKPOINT_BLOBS,
  LG_CHECKPOINT_WRITES,
  LG_STORE,
  LG_STORE_VECTORS,
  ADK_SESSIONS,
  ADK_APP_STATES,
  ADK_USER_STATES,
] as const;
