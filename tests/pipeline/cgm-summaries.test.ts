/**
 * Continuous glucose summaries from the journal (tests/pipeline/cgm-scenarios.ts) on the in-memory
 * journal and on the SQLite journal on its own thread, as a running gateway uses it. The PostgreSQL
 * journal runs the same scenarios in tests/postgres/cgm-local.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { cgmScenarios } from './cgm-scenarios.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-cgm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

cgmScenarios('memory', (clock) => new MemoryJournal({ clock }));
cgmScenarios('sqlite on its own thread', (clock) =>
  ThreadedJournal.open({ path: join(dir, `cgm${n++}.db`), clock }),
);
