/**
 * Model-based check: random sequences of operations applied to the SQLite journal and to the
 * in-memory journal agree (tests/journal/model.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, it } from 'vitest';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { TestClock } from './conformance.ts';
import { agreesWithModel, modelRun } from './model.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

it('SQLite and memory journals agree on every random sequence of operations', () => {
  fc.assert(
    fc.property(modelRun.ops, modelRun.maxReadings, (ops, maxReadings) => {
      const clock = new TestClock();
      const sql = new SqliteJournal({ path: join(dir, `m${n++}.db`), clock, maxReadings });
      try {
        agreesWithModel(sql, clock, ops, maxReadings);
      } finally {
        sql.close();
      }
    }),
    { numRuns: 150 },
  );
});
