import { adkOperations } from './adk.js';
import { agentOperations } from './agents.js';
import { auditOperations } from './audit.js';
import { checkpointOperations } from './checkpoints.js';
import { documentOperations } from './documents.js';
import { langgraphOperations } from './langgraph.js';
import { memoryOperations } from './memory.js';
import { metricOperations } from './metrics.js';
import type { Operation } from './operation.js';
import { sessionOperations } from './sessions.js';
import { sessionWatchOperations } from './session-watch.js';
import { stateOperations } from './state.js';
import { taskOperations } from './tasks.js';

/** The store's own operations: those of its services, which every engine implements. */
export const storeOperations: readonly Operation[] = [
  ...sessionOperations,
  ...sessionWatchOperations,
  ...memoryOperations,
  ...documentOperations,
  ...taskOperations,
  ...agentOperations,
  ...checkpointOperations,
  ...stateOperations,
  ...auditOperations,
  ...metricOperations,
] as readonly Operation[];

/** The framework adapters' operations, on tables of the SQLite schema alone. */
export const adapterOperations: readonly Operation[] = [...langgraphOperations, ...adkOperations] as readonly Operation[];

/** Every operation the SQLite engine runs. Both workers load this one list. */
export const operations: readonly Operation[] = [...storeOperations, ...adapterOperations];
