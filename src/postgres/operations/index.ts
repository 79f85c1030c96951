import type { PgImplementation } from '../operation.js';
import { pgAdkOperations } from './adk.js';
import { pgAgentOperations } from './agents.js';
import { pgAuditOperations } from './audit.js';
import { pgCheckpointOperations } from './checkpoints.js';
import { pgDocumentOperations } from './documents.js';
import { pgLangGraphOperations } from './langgraph.js';
import { pgMemoryOperations } from './memory.js';
import { pgMetricOperations } from './metrics.js';
import { pgSessionOperations } from './sessions.js';
import { pgSessionWatchOperations } from './session-watch.js';
import { pgStateOperations } from './state.js';
import { pgTaskOperations } from './tasks.js';

/** Every catalogue operation's PostgreSQL implementation. */
export const pgImplementations: readonly PgImplementation[] = [
  ...pgSessionOperations,
  ...pgSessionWatchOperations,
  ...pgMemoryOperations,
  ...pgDocumentOperations,
  ...pgTaskOperations,
  ...pgAgentOperations,
  ...pgCheckpointOperations,
  ...pgStateOperations,
  ...pgAuditOperations,
  ...pgMetricOperations,
  // The framework adapters' (sql/postgres/003_langgraph.sql, 004_adk.sql).
  ...pgLangGraphOperations,
  ...pgAdkOperations,
] as readonly PgImplementation[];
