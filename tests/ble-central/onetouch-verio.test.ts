/**
 * OneTouch Verio Reflect / Flex over the virtual radio (drivers/definitions/onetouch-verio.ts,
 * drivers/lifescan/, simulators/ble/onetouch-verio.ts): the real central, noble, pipeline and SQLite
 * journal. Pairing and the sync of the stored records (the meter clock set, control solution quarantined,
 * HI as "> 600"), "command not allowed" before bonding, exactly once over a link lost in the middle of the
 * transfer with the cursor on the record index, a corrupt answer refused with its code and asked again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimOneTouchVerio } from '../../simulators/ble/onetouch-verio.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('OneTouch Verio', () => {
  it('pairs, reads then sets the meter clock and commits every stored record once; the control test is quarantined', async () => {
    const ID = 'C0:26:DA:00:0A:01';
    const meter = new SimOneTouchVerio({ address: ID, counterStart: 500 });
    h = await harness([meter]);
    // The meter clock runs 37 minutes fast when the tests are taken (after it joined the radio).
    meter.shiftClock(37 * 60_000);
    meter.measure({ mgdl: 118 });
    meter.measure({ mgdl: 102, controlSolution: true });
    meter.measure({ mgdl: 650 });
    await h.central.start();
    await h.waitState(ID, 'discovered');
    expect(h.central.get(ID)?.driver).toBe('onetouch-verio');
    await h.central.pair(ID, { patientId: 'alice' });
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(3);
    expect(meter.isBonded(h.radio.centralAddress)).toBe(true);
    expect(meter.refusedCommands).toBe(0);
    // Oldest first, by lifetime index; the cursor is the newest index.
    expect(meter.recordRequests).toEqual([501, 502, 503]);
    expect(h.journal.cursor(ID)).toBe(503);
    // Every answer that carried data was acknowledged: time, counter, count and 3 records.
    expect(meter.hostAcks).toBe(6);
    expect(meter.clockWrites).toHaveLength(1);
    expect(h.central.get(ID)?.clock).toBe('synced');
    const rows = h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.patientId === 'alice' && r.kind === 'glucose')).toBe(true);
    const control = rows.find((r) => r.observation?.value === 102);
    expect(control?.state).toBe('quarantined');
    expect(control?.observation?.quarantine?.code).toBe('MEDGW_ERR_CONTROL_SOLUTION');
    const hi = rows.find((r) => r.observation?.comparator === '>');
    expect(hi?.observation?.value).toBe(600);
    expect(h.registry.getDevice(ID)).toMatchObject({ bond: 'bonded', driver: 'onetouch-verio' });
    expect(h.central.get(ID)?.reportedRecords).toBe(3);
    // Taken with the meter clock the gateway read before setting it: corrected, placed in UTC.
    expect(rows.every((r) => r.observation?.time.quality === 'corrected')).toBe(true);
    for (const r of rows) {
      expect(Math.abs(Date.parse(r.observation?.time.utc ?? '') - Date.now())).toBeLessThan(60_000);
    }
    // The meter clock now shows the gateway's local time (Europe/Paris, UTC+1 in winter, +2 in summer).
    const ahead = (meter.deviceWallMs() - Date.now()) / 60_000;
    expect(Math.min(Math.abs(ahead - 60), Math.abs(ahead - 120))).toBeLessThan(1);
    // A meter's transfer is complete: the link is given back.
    await until(() => !meter.connected, 'disconnect after sync');
  });

  it('a meter that is not bonded refuses every command: MEDGW_ERR_BLE_NOT_BONDED, nothing committed', async () => {
    const ID = 'C0:26:DA:00:0A:02';
    const meter = new SimOneTouchVerio({ address: ID });
    meter.measure({ mgdl: 140 });
    h = await harness([meter], { backoff: { maxAttempts: 1 } });
    // The registry believes it bonded, the meter forgot the gateway (a reset).
    await h.provision({ id: ID, driver: 'onetouch-verio', patientId: 'alice' });
    await h.central.start();
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_NOT_BONDED');
    expect(meter.refusedCommands).toBeGreaterThan(0);
    expect(meter.recordRequests).toEqual([]);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(0);
    expect(h.journal.cursor(ID)).toBeUndefined();
  });

  it('resumes after a link loss in the middle of the transfer from the last committed index: each record once', async () => {
    const ID = 'C0:26:DA:00:0A:03';
    // Time, clock acknowledgement, counter and count are 4 notifications; the link drops on the 3rd record.
    const meter = new SimOneTouchVerio({ address: ID, faults: { disconnectAfterNotifications: 6 } });
    for (const mgdl of [101, 102, 103, 104, 105]) meter.measure({ mgdl });
    h = await harness([meter]);
    await h.provision({ id: ID, driver: 'onetouch-verio', patientId: 'alice' });
    meter.bond(h.radio.centralAddress);
    let atFailure: { cursor: number | undefined; count: number } | undefined;
    h.central.feed.on('state', (c) => {
      if (c.state !== 'failed' || !h) return;
      atFailure = { cursor: h.journal.cursor(ID), count: h.journal.list({ deviceId: ID }).length };
    });
    await h.central.start();
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(atFailure).toEqual({ cursor: 102, count: 2 });
    await h.waitState(ID, 'synced');
    // 103 was asked when the link dropped, then again after the cursor: nothing before it twice.
    expect(meter.recordRequests).toEqual([101, 102, 103, 103, 104, 105]);
    const rows = h.journal.list({ deviceId: ID });
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([101, 102, 103, 104, 105]);
    expect(h.journal.cursor(ID)).toBe(105);
  });

  it('refuses an answer whose CRC fails (MEDGW_ERR_LIFESCAN_CRC), asks the record again, commits it once', async () => {
    const ID = 'C0:26:DA:00:0A:04';
    const meter = new SimOneTouchVerio({ address: ID });
    meter.measure({ mgdl: 99 });
    h = await harness([meter]);
    await h.provision({ id: ID, driver: 'onetouch-verio', patientId: 'alice' });
    meter.bond(h.radio.centralAddress);
    const rejections: string[] = [];
    const record = h.pipeline.recordRejection.bind(h.pipeline);
    h.pipeline.recordRejection = (r) => {
      rejections.push(r.code);
      return record(r);
    };
    meter.faults.frame = 'corrupt';
    await h.central.start();
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(1);
    expect(rejections).toContain('MEDGW_ERR_LIFESCAN_CRC');
    expect(h.journal.list({ deviceId: ID })).toHaveLength(1);
  });
});
