/**
 * Glucometer over the virtual radio through the BLE central, the pipeline and the SQLite journal:
 * discovered-until-paired, the state machine, records exactly once, the cursor, link loss and resume.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { type Harness, harness, until } from './harness.ts';

function meter(address: string, count: number, faults = {}) {
  const records = Array.from({ length: count }, (_, i) => ({
    baseTime: { year: 2026, month: 11, day: 20, hours: 8 + Math.floor(i / 60), minutes: i % 60, seconds: 0 },
    concentration: mgdl(90 + i),
    context: { meal: 1 + (i % 5) },
  }));
  return new SimGlucometer({ address, records, faults });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ID = 'C0:26:DA:00:00:01';

describe('BLE central: glucometer', () => {
  it('lists an unknown meter as discovered, pairs it on request and commits every record exactly once', async () => {
    const g = meter(ID, 30);
    h = await harness([g], { timing: { cooldownMs: 300 } });
    await h.central.start();
    await h.waitState(ID, 'discovered');
    // Not paired: never connected, nothing in the registry.
    await new Promise((r) => setTimeout(r, 100));
    expect(g.connected).toBe(false);
    expect(h.registry.getDevice(ID)).toBeUndefined();
    expect(h.central.get(ID)).toMatchObject({
      state: 'discovered',
      paired: false,
      driver: 'roche-accu-chek-guide',
    });

    await h.central.pair(ID, { patientId: 'alice' });
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(30);
    const states = h.changes.filter((c) => c.deviceId === ID).map((c) => c.state);
    expect(states).toEqual([
      'discovered',
      'connecting',
      'bonding',
      'discovering',
      'subscribing',
      'syncing',
      'synced',
    ]);

    const records = h.journal.list({ deviceId: ID });
    expect(records).toHaveLength(30);
    expect(new Set(records.map((r) => r.id)).size).toBe(30);
    expect(
      records.every((r) => r.state === 'pending' && r.patientId === 'alice' && r.kind === 'glucose'),
    ).toBe(true);
    // 90 mg/dL sent as 90e-5 kg/L; the context of record 1 (meal 1) merged by sequence number.
    const first = records.find((r) => r.observation?.time.device === '2026-11-20T08:00:00');
    expect(first?.observation?.value).toBe(90);
    expect(first?.observation?.context?.['meal']).toBe('preprandial');
    expect(h.journal.cursor(ID)).toBe(30);
    // The meter's own count, for the completeness ledger.
    expect(h.central.get(ID)?.reportedRecords).toBe(30);

    const device = h.registry.getDevice(ID);
    expect(device?.bond).toBe('bonded');
    expect(device?.identity).toMatchObject({
      manufacturer: 'Medgw Sim',
      model: 'GLU-4000',
      serial: 'G4K-000001',
    });
    // DIS System ID of address C0:26:DA:00:00:01 (OUI, FF-FE, company part), OUI first as the PHD IG writes it.
    expect(device?.identity?.systemId).toBe('C0-26-DA-FF-FE-00-00-01');
    // A glucometer's transfer is complete: the slot is given back.
    await until(() => !g.connected, 'disconnect after sync');

    // A new reading: the meter advertises, the central fetches only what is after the cursor.
    await new Promise((r) => setTimeout(r, 350));
    g.measure({ mgdl: 104, context: { meal: 3 } });
    const again = await h.waitState(ID, 'synced', 2);
    expect(again.committed).toBe(1);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(31);
    expect(h.journal.cursor(ID)).toBe(31);
    expect(h.central.get(ID)?.reportedRecords).toBe(31);
  });

  it('resumes after a link loss in the middle of the transfer: union exactly once, cursor never ahead', async () => {
    const g = meter(ID, 40, { disconnectAfterNotifications: 12 });
    h = await harness([g]);
    await h.provision({ id: ID, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    let atFailure: { cursor: number | undefined; count: number; maxSeq: number } | undefined;
    h.central.feed.on('state', (c) => {
      if (c.state !== 'failed' || !h) return;
      const rows = h.journal.list({ deviceId: ID });
      const seqs = rows.map((r) => Number(/T08:(\d\d)/.exec(r.observation?.time.device ?? '')?.[1]) + 1);
      atFailure = { cursor: h.journal.cursor(ID), count: rows.length, maxSeq: Math.max(0, ...seqs) };
    });
    await h.central.start();
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(failed.retryAt).toBeGreaterThanOrEqual(failed.at);
    expect(atFailure).toBeDefined();
    expect(atFailure!.count).toBeGreaterThan(0);
    expect(atFailure!.count).toBeLessThan(40);
    // The cursor covers exactly the committed records, never more.
    expect(atFailure!.cursor).toBe(atFailure!.count);
    expect(atFailure!.maxSeq).toBe(atFailure!.count);

    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(40 - atFailure!.count);
    const rows = h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.observation?.time.device)).size).toBe(40);
    expect(h.journal.cursor(ID)).toBe(40);
    const seq = h.changes.filter((c) => c.deviceId === ID).map((c) => c.state);
    expect(seq.slice(seq.indexOf('failed'), seq.indexOf('failed') + 2)).toEqual(['failed', 'connecting']);
  });

  it('stops taking records when the journal is full: coded failure, nothing evicted, cursor only over what is stored', async () => {
    const g = meter(ID, 25);
    h = await harness([g], {}, ['alice'], { maxReadings: 10 });
    await h.provision({ id: ID, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await h.central.start();
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_JOURNAL_FULL');
    const stored = h.journal.list({ deviceId: ID });
    // A refused batch stores nothing (all or nothing); the cursor covers only what was stored.
    expect(stored.length).toBeLessThanOrEqual(10);
    expect(h.journal.cursor(ID) ?? 0).toBe(stored.length);
    expect(h.pipeline.counters.rejected['MEDGW_ERR_JOURNAL_FULL']).toBeGreaterThan(0);
    await until(() => !g.connected, 'the link released');
  });

  it('collapses records the meter sends again (re-sent old records) without moving the cursor back', async () => {
    const g = meter(ID, 12, { resendOld: 3 });
    h = await harness([g], { timing: { cooldownMs: 200 } });
    await h.provision({ id: ID, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await h.central.start();
    await h.waitState(ID, 'synced');
    expect(h.journal.cursor(ID)).toBe(12);
    await until(() => !g.connected, 'disconnect');
    await new Promise((r) => setTimeout(r, 250));
    g.measure({ mgdl: 99, context: { meal: 3 } });
    const again = await h.waitState(ID, 'synced', 2);
    // 3 old records re-sent + the new one: the old ones collapse on their reading id.
    expect(again.committed).toBe(4);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(13);
    expect(h.journal.cursor(ID)).toBe(13);
    expect(h.pipeline.counters.duplicate).toBe(3);
  });
});
