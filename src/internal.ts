/**
 * The engine's internals, for the benchmark (bench/): its baselines run the store's own
 * catalogue and executors on a connection of their own. This is not the package's API:
 * the package exports only src/index.ts, and anything here may change in any release.
 * The library itself never imports the benchmark.
 */
export { openWriterConnection, type Connection, type Synchronous } from './sqlite/connection.js';
export { applySchema } from './sqlite/schema.js';
export { operations } from './catalogue/index.js';
export { PreparedCatalogue } from './catalogue/prepared.js';
export type { OperationCall } from './sqlite/protocol.js';
export { WriteExecutor } from './sqlite/write-executor.js';
export { defaultReaders } from './api/options.js';
export { EventLoopDelay } from './cli/event-loop-delay.js';
export { UsageError } from './cli/usage-error.js';
