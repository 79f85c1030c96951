/**
 * The embedded store: {@link openStore} opens one (a SQLite file, or a PostgreSQL
 * database), whose services return promises; every rejection is a {@link StoreError}.
 *
 * @module abathur-store
 */
// The package entry: openStore, the public types and the error class, nothing else.
// Every type a user can name is in api/types.ts; a Store's engine is not reachable from here.
export { openStore } from './store.js';
export type { Store } from './store.js';
export { StoreError, type ErrorCode } from './api/errors.js';
export type * from './api/types.js';
export type { Sessions } from './services/sessions.js';
export type { Memory } from './services/memory.js';
export type { Documents } from './services/documents.js';
export type { Tasks } from './services/tasks.js';
export type { Agents } from './services/agents.js';
export type { Checkpoints } from './services/checkpoints.js';
export type { TaskState } from './services/state.js';
export type { Audit } from './services/audit.js';
export type { Metrics } from './services/metrics.js';
