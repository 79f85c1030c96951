/**
 * A LangGraph.js checkpointer ({@link AbathurSaver}) and long-term memory store
 * ({@link AbathurStore}) on an abathur-store database. This entry loads
 * `@langchain/langgraph-checkpoint` (an optional peer dependency); the package's main
 * entry never does.
 *
 * @module abathur-store/langgraph
 */
export { AbathurSaver, type AbathurSaverOptions, type AbathurSaverFromPathOptions } from './saver.js';
export {
  AbathurStore,
  type AbathurStoreOptions,
  type AbathurStoreFromPathOptions,
  type AbathurStoreIndexConfig,
  type AbathurStoreTtlConfig,
  type AbathurGetOperation,
  type AbathurSearchOperation,
  type AbathurPutOperation,
  type EmbeddingsLike,
  type EmbedFunction,
} from './store.js';
