/**
 * Ascensia Contour Next One over the virtual radio (drivers/definitions/ascensia-contour-next-one.ts,
 * simulators/ble/contour-next-one.ts): bonding only in pairing mode, the meter clock read through CTS
 * (not writable) correcting record times, control-solution records left out with their code, the private
 * Ascensia service never touched, stored records through the RACP exactly once over a link loss.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findDefinition, matchAdvertisement } from '../../drivers/definitions/index.ts';
import { zoneOffsetMinutes } from '../../drivers/normalize/time.ts';
import { SimContourNextOne } from '../../simulators/ble/contour-next-one.ts';
import { type Harness, harness } from './harness.ts';

const PARIS = 'Europe/Paris';
const FAST_MINUTES = 23;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A meter showing Paris civil time but running 23 minutes fast, with three tests and one control check. */
function contour(address: string, options: { pairingMode?: boolean; faults?: object } = {}) {
  const meter = new SimContourNextOne({
    address,
    utcOffsetMinutes: zoneOffsetMinutes(PARIS, Date.now()) + FAST_MINUTES,
    ...options,
  });
  const takenAt = Date.now();
  meter.measure({ mgdl: 112 });
  meter.measure({ mgdl: 98, type: 10 }); // control solution (GLS Type 10)
  meter.measure({ mgdl: 143 });
  meter.measure({ mgdl: 87 });
  return { meter, takenAt };
}

describe('Ascensia Contour Next One', () => {
  it('is recognized by its advertised name, pairs with a passkey', () => {
    expect(matchAdvertisement({ localName: 'Contour7801H5213142', serviceUuids: ['1808'] })?.id).toBe(
      'ascensia-contour-next-one',
    );
    expect(matchAdvertisement({ localName: 'meter+06577561', serviceUuids: ['1808'] })?.id).toBe(
      'roche-accu-chek-guide',
    );
    expect(findDefinition('ascensia-contour-next-one').pairing).toBe('passkey');
  });

  it('bonds only in pairing mode; then syncs, corrects times by the meter clock, skips the control check', async () => {
    const ID = 'C0:26:DA:00:1C:01';
    const { meter, takenAt } = contour(ID, { pairingMode: false });
    h = await harness([meter], { backoff: { baseMs: 50, maxMs: 50 } });
    await h.central.start();
    await h.waitState(ID, 'discovered');
    expect(h.central.get(ID)?.driver).toBe('ascensia-contour-next-one');
    await h.central.pair(ID, { patientId: 'alice' });
    // Out of pairing mode the meter refuses to bond: a coded failure, nothing read.
    const refused = await h.waitState(ID, 'failed');
    expect(refused.code).toBe('MEDGW_ERR_BLE_BONDING');
    expect(meter.isBonded(h.radio.centralAddress)).toBe(false);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(0);

    // The person holds OK until the blue light flashes: the next attempt bonds and syncs.
    meter.pairingMode = true;
    const synced = await h.waitState(ID, 'synced');
    expect(meter.isBonded(h.radio.centralAddress)).toBe(true);
    expect(h.registry.getDevice(ID)).toMatchObject({ bond: 'bonded', driver: 'ascensia-contour-next-one' });
    // Four records on the meter, three committed: the control-solution check was left out with its code.
    expect(h.central.get(ID)?.reportedRecords).toBe(4);
    expect(synced.committed).toBe(3);
    expect(h.central.get(ID)?.session?.dropped).toBe(1);
    const rows = h.journal.list({ deviceId: ID });
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([112, 143, 87]);
    expect(rows.every((r) => r.patientId === 'alice' && r.kind === 'glucose')).toBe(true);
    expect(rows.some((r) => r.reason?.code === 'MEDGW_ERR_CONTROL_SOLUTION')).toBe(false);
    // The meter clock (23 minutes fast, not writable) was read and corrects every record time.
    expect(h.central.get(ID)?.clock).toBe('corrected');
    for (const r of rows) {
      expect(r.observation?.time.quality).toBe('corrected');
      expect(Math.abs(Date.parse(r.observation?.time.utc ?? '') - takenAt)).toBeLessThan(5_000);
    }
    // The cursor covers the last record (the skipped check is not a gap the next sync fetches again).
    expect(h.journal.cursor(ID)).toBe(4);
    // The private Ascensia service was never read or written.
    expect(meter.privateServiceUsed).toBe(0);
  });

  it('resumes after a link loss in the middle of the RACP transfer: every record once', async () => {
    const ID = 'C0:26:DA:00:1C:02';
    const meter = new SimContourNextOne({ address: ID, faults: { disconnectAfterNotifications: 9 } });
    for (let i = 0; i < 30; i++) meter.measure({ mgdl: 80 + i });
    h = await harness([meter]);
    await h.provision({ id: ID, driver: 'ascensia-contour-next-one', patientId: 'alice' });
    meter.bond(h.radio.centralAddress);
    await h.central.start();
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    const before = h.journal.list({ deviceId: ID }).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(30);
    await h.waitState(ID, 'synced');
    const rows = h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.observation?.value)).size).toBe(30);
    expect(h.journal.cursor(ID)).toBe(30);
  });

  it("under the generic glucose driver the control check is stored, quarantined (the contrast of the definition's skip)", async () => {
    const ID = 'C0:26:DA:00:1C:03';
    const { meter } = contour(ID);
    h = await harness([meter]);
    await h.provision({ id: ID, driver: 'generic-glucose', patientId: 'alice' });
    meter.bond(h.radio.centralAddress);
    await h.central.start();
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(4);
    const control = h.journal.list({ deviceId: ID }).filter((r) => r.observation?.value === 98);
    expect(control).toHaveLength(1);
    expect(control[0]?.state).toBe('quarantined');
  });
});
