/** The journal: durable SQLite implementation, in-memory twin for tests, group commit, shared rules. */
export { type BatchAppend, type BatchJournal, type BatchTransition, GroupCommit } from './group-commit.ts';
export { MemoryJournal } from './memory.ts';
export { type JournalLimits, type JournalStats, OUTBOX_STATES, TRANSITIONS } from './rules.ts';
export { SqliteJournal, type SqliteJournalOptions } from './sqlite.ts';
