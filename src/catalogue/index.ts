import { memoryOperations } from './memory.js';
import type { Operation } from './operation.js';
import { sessionOperations } from './sessions.js';

/** Every operation the store runs. Both workers load this one list. */
export const operations: readonly Operation[] = [...sessionOperations, ...memoryOperations] as readonly Operation[];

export const operationsByName: ReadonlyMap<string, Operation> = new Map(operations.map((op) => [op.name, op]));
