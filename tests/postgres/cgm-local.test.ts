/**
 * Continuous glucose sensor values kept local, summarized and purged (tests/pipeline/cgm-scenarios.ts)
 * on the PostgreSQL journal on its own thread, as a running gateway uses it: a fresh database each time.
 */
import { afterAll, beforeAll } from 'vitest';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { cgmScenarios } from '../pipeline/cgm-scenarios.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

cgmScenarios('postgres on its own thread', (clock) =>
  ThreadedJournal.openPostgres({ url: server.database(), instance: 'test', clock }),
);
