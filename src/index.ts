export { openStore, Store } from './api/store.js';
export type { StoreOptions, PostgresStoreOptions } from './api/options.js';
export type { StoreStats, EngineKind } from './services/engine.js';
export type { LatencySummary, BatchSummary } from './sqlite/engine-stats.js';
export type { CheckReport, IndexFinding, ForeignKeyViolation } from './diagnostics/check.js';
export type { StatementPlan } from './diagnostics/query-plan.js';
export { StoreError, type ErrorCode } from './api/errors.js';
export type * from './api/types.js';
export type { CreateSessionInput, GetSessionOptions, SessionListOptions } from './services/sessions.js';
export type { UpsertDocumentInput, MarkSyncedOptions } from './services/documents.js';
export type { CreateTaskInput } from './services/tasks.js';
export type { SpawnAgentInput } from './services/agents.js';
export type { SaveCheckpointInput } from './services/checkpoints.js';
export type { AuditQuery } from './services/audit.js';
export type { MetricQuery } from './services/metrics.js';
export type { Sessions } from './services/sessions.js';
export type { Memory } from './services/memory.js';
export type { Documents } from './services/documents.js';
export type { Tasks } from './services/tasks.js';
export type { Agents } from './services/agents.js';
export type { Checkpoints } from './services/checkpoints.js';
export type { TaskState } from './services/state.js';
export type { Audit } from './services/audit.js';
export type { Metrics } from './services/metrics.js';
export type {
  AddMemoryInput,
  ContextQuery,
  MemoryContext,
  SearchMemoryOptions,
  UpdateMemoryOptions,
} from './services/memory.js';
