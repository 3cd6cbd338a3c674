import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { journalConformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-journal-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

journalConformance('sqlite', (opts) => new SqliteJournal({ path: join(dir, `j${n++}.db`), ...opts }));
journalConformance('sqlite on its own thread', (opts) =>
  ThreadedJournal.open({ path: join(dir, `t${n++}.db`), ...opts }),
);
journalConformance('memory', (opts) => new MemoryJournal(opts));
