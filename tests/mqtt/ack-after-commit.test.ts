import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AppendResult, NewReading } from '../../gateway/contracts.ts';
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { encodeReading, sampleReading } from '../../simulators/mqtt/payloads.ts';
import { clock, type Harness, startHarness } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-ack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A journal that writes down when each commit happens, in the same event log as the PUBACKs. */
class RecordingJournal extends MemoryJournal {
  constructor(
    private readonly events: string[],
    limits: { maxReadings?: number } = {},
  ) {
    super({ clock, ...limits });
  }
  override append(
    readings: readonly NewReading[],
    cursor?: { deviceId: string; value: number },
  ): AppendResult {
    const result = super.append(readings, cursor);
    this.events.push(`commit:${readings.length}`);
    return result;
  }
}

describe('QoS 1 acknowledgement after commit', () => {
  it('sends no PUBACK while the journal commit is held back, and the PUBACK only after it committed', async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h = await startHarness({
      journal: new RecordingJournal(events),
      // the real group commit over the journal, held at the gate: the commit itself is what waits
      commits: (journal) => {
        const real = new GroupCommit(journal);
        return {
          append: async (readings, cursor) => {
            events.push('commit requested');
            await gate;
            return real.append(readings, cursor);
          },
          counters: () => real.counters(),
        };
      },
    });
    const dev = h.device('bp-1');
    await dev.connect();
    const published = dev
      .publishRaw(
        dev.measurementTopic('json'),
        encodeReading('json', sampleReading('glucose', 5, Date.now() - 60_000)),
      )
      .then(() => events.push('puback'));

    await new Promise((r) => setTimeout(r, 400));
    expect(events).toEqual(['commit requested']);
    expect(h.journal.list()).toHaveLength(0);

    release();
    await published;
    expect(events).toEqual(['commit requested', 'commit:1', 'puback']);
    expect(h.journal.list({ deviceId: 'bp-1' })).toHaveLength(1);
    expect((await dev.waitForReceipt(5)).status).toBe('accepted');
  });

  it('journal full: a rejected receipt with MEDGW_ERR_JOURNAL_FULL, then the connection closes without PUBACK', async () => {
    const events: string[] = [];
    h = await startHarness({ journal: new RecordingJournal(events, { maxReadings: 2 }) });
    const dev = h.device('bp-1');
    await dev.connect();
    // a blood-pressure reading is two observations (panel + heart rate): the journal is now full
    const first = await dev.publish(sampleReading('blood-pressure', 1, Date.now() - 120_000));
    expect(first.receipt.status).toBe('accepted');

    const receipt = dev.waitForReceipt(2);
    const second = dev.publishRaw(
      dev.measurementTopic('json'),
      encodeReading('json', sampleReading('glucose', 2, Date.now() - 60_000)),
    );
    await expect(second).rejects.toThrow(/without acknowledging/);
    expect(await receipt).toMatchObject({ seq: 2, status: 'rejected', code: 'MEDGW_ERR_JOURNAL_FULL' });
    expect(h.journal.list()).toHaveLength(2);
    expect(h.broker.counters.unacknowledged).toBe(1);
    expect(h.pipeline.counters.rejected.MEDGW_ERR_JOURNAL_FULL).toBe(1);
  });
});

describe('journal thread lost', () => {
  it('a rejected receipt with MEDGW_ERR_JOURNAL_OPEN and no PUBACK: nothing is acknowledged that was not stored', async () => {
    const journal = await ThreadedJournal.open({ path: join(dir, 'lost.db'), clock });
    h = await startHarness({ journal });
    const dev = h.device('bp-1');
    await dev.connect();
    const first = await dev.publish(sampleReading('blood-pressure', 1, Date.now() - 120_000));
    expect(first.receipt.status).toBe('accepted');

    await (journal as unknown as { worker: Worker }).worker.terminate();
    const receipt = dev.waitForReceipt(2);
    const second = dev.publishRaw(
      dev.measurementTopic('json'),
      encodeReading('json', sampleReading('glucose', 2, Date.now() - 60_000)),
    );
    await expect(second).rejects.toThrow(/without acknowledging/);
    expect(await receipt).toMatchObject({ seq: 2, status: 'rejected', code: 'MEDGW_ERR_JOURNAL_OPEN' });
    expect(h.broker.counters.unacknowledged).toBe(1);
    const reopened = new SqliteJournal({ path: join(dir, 'lost.db') });
    expect(
      reopened
        .list()
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['blood-pressure', 'heart-rate']);
    reopened.close();
  });
});

describe('journal full, then room again', () => {
  it('the device keeps the unacknowledged message and sends it again after reconnecting: stored once', async () => {
    const events: string[] = [];
    h = await startHarness({ journal: new RecordingJournal(events, { maxReadings: 2 }) });
    const dev = h.device('bp-1', { persistentSession: true, reconnectPeriod: 200 });
    await dev.connect();
    await dev.publish(sampleReading('blood-pressure', 1, Date.now() - 120_000));

    // mqtt.js keeps the QoS 1 message in its outgoing store until a PUBACK arrives
    let acked = false;
    dev.client?.publish(
      dev.measurementTopic('json'),
      encodeReading('json', sampleReading('glucose', 2, Date.now() - 60_000)),
      { qos: 1 },
      (err) => {
        if (!err) acked = true;
      },
    );
    expect(await dev.waitForReceipt(2)).toMatchObject({ status: 'rejected', code: 'MEDGW_ERR_JOURNAL_FULL' });
    expect(acked).toBe(false);

    // the national side acknowledged the first reading: its values are purged, there is room again
    for (const r of h.journal.list({ state: 'pending' })) {
      h.journal.transition(r.id, 'pending', 'in-flight');
      h.journal.transition(r.id, 'in-flight', 'delivered', { remoteId: `obs-${r.id.slice(-4)}` });
    }
    let again = await dev.waitForReceipt(2, 10_000);
    // a re-send that raced the purge is refused the same way, and sent again
    while (again.status === 'rejected') again = await dev.waitForReceipt(2, 10_000);
    expect(again.status).toBe('accepted');
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBe(true);
    expect(h.journal.list({ deviceId: 'bp-1', state: 'pending' }).map((r) => r.kind)).toEqual(['glucose']);
  });
});
