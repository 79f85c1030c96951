// LangGraph's published checkpointer validation suite against AbathurSaver, under a name
// that no test of the suite skips or excuses (its skip tables key on the saver's name).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deltaChannelHistoryTests, validate } from '@langchain/langgraph-checkpoint-validation';
import { AbathurSaver } from '../src/langgraph/index.js';
import { tempDbPath } from './helpers/temp.js';

// The suite calls describe/it/expect and the hooks as globals; this project keeps vitest's
// globals off, so they are installed for this file only.
Object.assign(globalThis, { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach });

const init = {
  checkpointerName: 'abathur-store/langgraph AbathurSaver',
  // A fresh database for every checkpointer the suite creates: its list() tests count
  // every checkpoint in the database, and it reuses thread ids across blocks.
  createCheckpointer: () => AbathurSaver.fromPath(tempDbPath(), { store: { readers: 1 } }),
  destroyCheckpointer: (saver: AbathurSaver) => saver.close(),
};

validate(init);
describe('getDeltaChannelHistory (the suite\'s opt-in tests)', () => deltaChannelHistoryTests(init));
