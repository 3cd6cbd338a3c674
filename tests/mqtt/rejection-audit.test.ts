/**
 * Refused payloads are audited asynchronously and aggregated: a device sending garbage costs no
 * synchronous journal call per message, one `reading.rejected` entry per device and window carries
 * the count, the codes and the first and last time, and those entries count against
 * journal.maxAuditEntries (refused beyond it, the counters keep the figures).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { clock, type Harness, startHarness } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-rejaudit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Counts the synchronous audit calls a journal receives. */
function countSyncAudits<T extends { audit: (...a: never[]) => unknown }>(journal: T): { calls: number } {
  const seen = { calls: 0 };
  const original = journal.audit.bind(journal);
  journal.audit = ((...args: never[]) => {
    seen.calls += 1;
    return original(...args);
  }) as T['audit'];
  return seen;
}

describe('aggregated audit of refused payloads', () => {
  it('300 garbage messages from two devices: no synchronous journal call, one summary per device', async () => {
    const journal = await ThreadedJournal.open({ path: join(dir, 'threaded.db'), clock });
    const sync = countSyncAudits(journal);
    h = await startHarness({
      journal,
      rejectionWindowMs: 60_000,
      // the rate limit is not what is tested here (rate-limit.test.ts)
      broker: { rateLimit: { burst: 10_000 } },
    });
    const a = h.device('bp-1');
    const b = h.device('bp-2');
    await a.connect();
    await b.connect();
    const t0 = Date.now();
    for (let i = 0; i < 200; i++)
      await a.publishRaw(a.measurementTopic('cbor'), Buffer.from([0xff, i & 0xff]), 0);
    for (let i = 0; i < 100; i++) await b.publishRaw(b.measurementTopic('json'), Buffer.from('{not json'), 0);
    // a valid reading behind the garbage: the flood is fully processed once its receipt is back
    expect((await a.publish(sampleReading('glucose', 1, Date.now() - 60_000))).receipt.status).toBe(
      'accepted',
    );
    expect((await b.publish(sampleReading('glucose', 1, Date.now() - 60_000))).receipt.status).toBe(
      'accepted',
    );
    expect(h.pipeline.counters.rejected).toEqual({
      MEDGW_ERR_PAYLOAD_CBOR: 200,
      MEDGW_ERR_PAYLOAD_JSON: 100,
    });
    // nothing written yet (the window is open), and never through a synchronous call
    expect(journal.auditList().filter((e) => e.event === 'reading.rejected')).toHaveLength(0);
    await h.pipeline.rejections.flush();
    expect(sync.calls).toBe(0);
    const summaries = journal.auditList().filter((e) => e.event === 'reading.rejected');
    expect(summaries.map((e) => e.deviceId).sort()).toEqual(['bp-1', 'bp-2']);
    const ofA = summaries.find((e) => e.deviceId === 'bp-1')?.detail;
    expect(ofA).toMatchObject({ transport: 'mqtt', count: 200, code: 'MEDGW_ERR_PAYLOAD_CBOR' });
    expect(ofA?.codes).toBe('MEDGW_ERR_PAYLOAD_CBOR=200');
    expect(Number(ofA?.first)).toBeGreaterThanOrEqual(t0);
    expect(Number(ofA?.last)).toBeGreaterThanOrEqual(Number(ofA?.first));
    expect(journal.auditVerify()).toBeUndefined();
  });

  it('the window closes on its own: the summary is written without a flush', async () => {
    h = await startHarness({ rejectionWindowMs: 200 });
    const a = h.device('bp-1');
    await a.connect();
    for (let i = 0; i < 5; i++) await a.publishMalformed(Buffer.from('nope'), 'json');
    const journal = h.journal;
    await expect
      .poll(() => journal.auditList().filter((e) => e.event === 'reading.rejected').length, {
        timeout: 3_000,
      })
      .toBe(1);
    expect(journal.auditList().find((e) => e.event === 'reading.rejected')?.detail?.count).toBe(5);
  });

  it('summaries count against journal.maxAuditEntries: refused beyond it, counted, nothing else refused', async () => {
    const path = join(dir, 'limited.db');
    const journal = new SqliteJournal({ path, clock, maxAuditEntries: 2 });
    journal.audit({ event: 'test.filler' });
    journal.audit({ event: 'test.filler' });
    h = await startHarness({ journal });
    const a = h.device('bp-1');
    await a.connect();
    await a.publishMalformed(Buffer.from('nope'), 'json');
    await h.pipeline.rejections.flush();
    expect(h.pipeline.rejections.counters).toMatchObject({ recorded: 1, written: 0, refused: 1 });
    expect(journal.auditList().filter((e) => e.event === 'reading.rejected')).toHaveLength(0);
    expect(journal.stats(Date.now()).limits.maxAuditEntries).toBe(2);
    // readings are still stored: the audit limit refuses summaries only
    expect((await a.publish(sampleReading('glucose', 3, Date.now() - 60_000))).receipt.status).toBe(
      'accepted',
    );
  });
});
