/**
 * What the journal on its own thread adds to the Journal contract (the conformance suite covers the
 * contract itself): closing behind the batches already posted, coded failures when the thread is
 * gone, opening errors, and the operator alarm for refusals made on the other thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { reading, TestClock } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-threaded-'));
let n = 0;
const dbPath = () => join(dir, `t${n++}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('journal on its own thread', () => {
  it('close() waits for the batches posted before it: all committed, then the file is closed', async () => {
    const path = dbPath();
    const j = await ThreadedJournal.open({ path });
    const posted = Array.from({ length: 20 }, (_, i) =>
      j.appendBatchAsync([{ readings: [reading(`c${i}`)], cursor: { deviceId: 'scale-1', value: i } }]),
    );
    j.close();
    const results = await Promise.all(posted);
    expect(results.flat().every((r) => 'accepted' in r && r.accepted.length === 1)).toBe(true);
    expect(() => j.get('c0')).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_OPEN' }));
    await expect(j.appendBatchAsync([{ readings: [reading('late')] }])).rejects.toMatchObject({
      code: 'MEDGW_ERR_JOURNAL_OPEN',
    });
    const reopened = new SqliteJournal({ path });
    expect(reopened.list()).toHaveLength(20);
    expect(reopened.cursor('scale-1')).toBe(19);
    expect(reopened.auditVerify()).toBeUndefined();
    reopened.close();
  });

  it('a thread that stops fails what waits and what comes after with MEDGW_ERR_JOURNAL_OPEN', async () => {
    const j = await ThreadedJournal.open({ path: dbPath() });
    j.append([reading('kept')]);
    const worker = (j as unknown as { worker: Worker }).worker;
    const stopped = worker.terminate();
    const pending = j.appendBatchAsync([{ readings: [reading('lost')] }]);
    await stopped;
    await expect(pending).rejects.toMatchObject({ code: 'MEDGW_ERR_JOURNAL_OPEN' });
    expect(() => j.get('kept')).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_OPEN' }));
    await expect(new GroupCommit(j).append([reading('after')])).rejects.toMatchObject({
      code: 'MEDGW_ERR_JOURNAL_OPEN',
    });
    j.close();
  });

  it('a file that cannot be opened is refused with MEDGW_ERR_JOURNAL_OPEN naming it', async () => {
    const path = join(dir, 'no-such-dir', 'journal.db');
    await expect(ThreadedJournal.open({ path })).rejects.toMatchObject({
      code: 'MEDGW_ERR_JOURNAL_OPEN',
      message: expect.stringContaining(path),
    });
  });

  it('refusals made on the journal thread raise the alarm here, once each, with their code', async () => {
    const alarms: string[] = [];
    const clock = new TestClock();
    const j = await ThreadedJournal.open({
      path: dbPath(),
      clock,
      maxReadings: 2,
      onFull: (e) => alarms.push(`${e.code} ${String(e.details?.limit)}`),
    });
    const g = new GroupCommit(j);
    const results = await Promise.allSettled([
      g.append([reading('f1')]),
      g.append([reading('f2')]),
      g.append([reading('f3')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    // the code and the limit that was reached (the gateway's alarm line names it) cross the thread
    expect(alarms).toEqual(['MEDGW_ERR_JOURNAL_FULL maxReadings']);
    // the injected clock, not the thread's own, dates what is stored
    expect(j.get('f1')?.createdAt).toBe(clock.now());
    expect(() => j.append([reading('f4')])).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }),
    );
    expect(alarms).toEqual(['MEDGW_ERR_JOURNAL_FULL maxReadings', 'MEDGW_ERR_JOURNAL_FULL maxReadings']);
    j.close();
  });

  it('dueAsync answers like due(), behind the commits posted before it', async () => {
    const clock = new TestClock();
    const j = await ThreadedJournal.open({ path: dbPath(), clock });
    const posted = j.appendBatchAsync([{ readings: [reading('d1'), reading('d2')] }]);
    const due = await j.dueAsync(clock.now(), 10);
    await posted;
    expect(due.map((r) => r.id)).toEqual(['d1', 'd2']);
    expect(due).toEqual(j.due(clock.now(), 10));
    expect(await j.dueAsync(clock.now(), 1)).toHaveLength(1);
    j.close();
    await expect(j.dueAsync(clock.now(), 1)).rejects.toMatchObject({ code: 'MEDGW_ERR_JOURNAL_OPEN' });
  });
});
