/**
 * Google ADK (`@google/adk`) session and memory services on the store:
 * {@link AbathurSessionService} and {@link AbathurMemoryService}. Only this entry loads
 * `@google/adk`; the package's main entry never does.
 *
 * @module abathur-store/adk
 */
export { AbathurSessionService, type AbathurSessionServiceOptions, type StalePolicy } from './session-service.js';
export { AbathurMemoryService, type AbathurMemoryServiceOptions } from './memory-service.js';
