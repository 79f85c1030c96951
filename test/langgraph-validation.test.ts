// LangGraph's published checkpointer validation suite against AbathurSaver, on both
// engines, under names that no test of the suite skips or excuses (its skip tables key on
// the saver's name).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deltaChannelHistoryTests, validate } from '@langchain/langgraph-checkpoint-validation';
import { AbathurSaver } from '../src/langgraph/index.js';
import { openPostgresTestStore } from './helpers/postgres.js';
import { tempDbPath } from './helpers/temp.js';

// The suite calls describe/it/expect and the hooks as globals; this project keeps vitest's
// globals off, so they are installed for this file only.
Object.assign(globalThis, { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach });

const sqlite = {
  checkpointerName: 'abathur-store/langgraph AbathurSaver',
  // A fresh database for every checkpointer the suite creates: its list() tests count
  // every checkpoint in the database, and it reuses thread ids across blocks.
  createCheckpointer: () => AbathurSaver.fromPath(tempDbPath(), { store: { readers: 1 } }),
  destroyCheckpointer: (saver: AbathurSaver) => saver.close(),
};

const postgres = {
  checkpointerName: 'abathur-store/langgraph AbathurSaver (PostgreSQL)',
  // A fresh database for every checkpointer, as on SQLite.
  createCheckpointer: async () => new AbathurSaver(await openPostgresTestStore()),
  destroyCheckpointer: (saver: AbathurSaver) => saver.store.close(),
};

describe('on SQLite', () => {
  validate(sqlite);
  describe('getDeltaChannelHistory (the suite\'s opt-in tests)', () => deltaChannelHistoryTests(sqlite));
});

describe('on PostgreSQL', () => {
  validate(postgres);
  describe('getDeltaChannelHistory (the suite\'s opt-in tests)', () => deltaChannelHistoryTests(postgres));
});
