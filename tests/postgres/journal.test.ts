/**
 * The PostgreSQL journal (on its own thread, as a running gateway uses it) against the journal
 * conformance suite: a fresh database for every journal the suite opens.
 */
import { afterAll, beforeAll } from 'vitest';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { journalConformance } from '../journal/conformance.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

journalConformance('postgres on its own thread', (opts) =>
  ThreadedJournal.openPostgres({ url: server.database(), instance: 'test', ...opts }),
);
