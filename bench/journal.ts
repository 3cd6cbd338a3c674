/**
 * Journal append throughput: the SQLite journal (WAL, synchronous=FULL, hash-chained audit entry per
 * reading) fed through the group commit the way MQTT ingest feeds it (many devices each waiting for
 * its own commit), beside plain better-sqlite3 INSERTs of the same rows with the same pragmas, one
 * transaction (one fsync) per row, measured in the same run on the same disk.
 *
 * Sizes: MEDGW_BENCH_JOURNAL_READINGS (default 5000), MEDGW_BENCH_JOURNAL_PRODUCERS (concurrent
 * appenders, default 100), MEDGW_BENCH_JOURNAL_REF_ROWS (rows of the reference, default 1000).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit } from '../gateway/journal/group-commit.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { envInt, pendingReadings, ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

/** Appends every reading through a group commit from `producers` concurrent appenders; readings/s. */
async function groupCommitRate(
  dir: string,
  count: number,
  producers: number,
): Promise<{ perSecond: number; batches: number }> {
  const journal = new SqliteJournal({ path: join(dir, 'journal.sqlite') });
  const commits = new GroupCommit(journal, 256);
  const readings = pendingReadings(count, producers, 'journal');
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < readings.length) {
        const r = readings[next++];
        if (r) await commits.append([r]);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const stored = journal.stats(Date.now()).byState.pending;
  const chainBroken = journal.auditVerify();
  journal.close();
  if (stored !== count) throw new Error(`journal bench: ${stored} readings stored, ${count} expected`);
  if (chainBroken !== undefined) throw new Error(`journal bench: audit chain broken at ${chainBroken}`);
  return { perSecond: count / seconds, batches: commits.counters().batches };
}

/** The same rows inserted by plain better-sqlite3, same pragmas, one transaction per row; rows/s. */
function plainPerRowRate(dir: string, count: number): number {
  const db = new Database(join(dir, 'plain.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE outbox (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, patient_id TEXT,
    kind TEXT NOT NULL, state TEXT NOT NULL, observation TEXT, created_at INTEGER NOT NULL)`);
  const insert = db.prepare(
    'INSERT INTO outbox (id, device_id, patient_id, kind, state, observation, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const one = db.transaction((r: ReturnType<typeof pendingReadings>[number]) => {
    insert.run(
      r.id,
      r.deviceId,
      null,
      r.observation.kind,
      r.state,
      JSON.stringify(r.observation),
      Date.now(),
    );
  });
  const readings = pendingReadings(count, 100, 'plain');
  const start = performance.now();
  for (const r of readings) one.immediate(r);
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return count / seconds;
}

export async function journalBench(): Promise<BenchRow[]> {
  const count = envInt('MEDGW_BENCH_JOURNAL_READINGS', 5000);
  const producers = envInt('MEDGW_BENCH_JOURNAL_PRODUCERS', 100);
  const refRows = envInt('MEDGW_BENCH_JOURNAL_REF_ROWS', 1000);
  const dir = tempDir('journal');
  try {
    const reference = plainPerRowRate(dir.path, refRows);
    const subject = await groupCommitRate(dir.path, count, producers);
    return [
      {
        name: 'journal-append',
        value: round(subject.perSecond),
        unit: 'readings/s',
        reference: {
          name: 'plain better-sqlite3 INSERT, WAL + synchronous=FULL, one transaction per row',
          value: round(reference),
        },
        ratio: ratio(subject.perSecond, reference),
        readings: count,
        producers,
        transactions: subject.batches,
      },
    ];
  } finally {
    dir.remove();
  }
}
