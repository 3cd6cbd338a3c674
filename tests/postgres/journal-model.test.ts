/**
 * Model-based check of the PostgreSQL journal (on its own thread, as a running gateway uses it):
 * random sequences of operations agree with the in-memory journal (tests/journal/model.ts). Each run
 * gets a fresh database.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, it } from 'vitest';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { TestClock } from '../journal/conformance.ts';
import { agreesWithModel, modelRun } from '../journal/model.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

it('PostgreSQL and memory journals agree on every random sequence of operations', async () => {
  await fc.assert(
    fc.asyncProperty(modelRun.ops, modelRun.maxReadings, async (ops, maxReadings) => {
      const clock = new TestClock();
      const journal = await ThreadedJournal.openPostgres({ url: server.database(), clock, maxReadings });
      try {
        agreesWithModel(journal, clock, ops, maxReadings);
      } finally {
        journal.close();
      }
    }),
    { numRuns: 30 },
  );
}, 300_000);
