/**
 * A device that ends the link on the heels of its last value, over the fake BlueZ with
 * `deviceDropDelayMs: 0`: the client (noble's D-Bus bindings on a busy host) reads BlueZ's reply to the
 * step in progress, the device's last value and its disconnect together, so the step in progress sees the
 * link down although the collector already holds what it asked for. What the gateway does
 * (gateway/ble/session.ts, collectors/): a link that ends once the collector has everything it asked for is
 * a completed sync (`synced`, no failure, no retry); a link lost before that still fails with
 * MEDGW_ERR_BLE_LINK_LOST and is retried, each reading once.
 * - pushed readings (a cuff): "everything" is at least one measurement received;
 * - stored records through RACP (a meter): the final RACP response received;
 * - records read by index (OneTouch Verio): the meter's record counter reached.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { SimOmronX4Smart } from '../../simulators/ble/omron-x4-smart.ts';
import { SimOneTouchVerio, type VerioRecord } from '../../simulators/ble/onetouch-verio.ts';
import type { SimPeripheral } from '../../simulators/ble/peripheral.ts';
import { type ModelBench, modelOverBluez, until } from './harness.ts';

let m: ModelBench<SimPeripheral> | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

const FAST = { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50 } } as const;
/** No new connection after a sync for a minute: the first connection is the only one. */
const ONCE = { timing: { cooldownMs: 60_000 }, backoff: { baseMs: 20, maxMs: 50 } } as const;

/** The device's state changes so far, in order. */
const states = (id: string) => m!.h.changes.filter((c) => c.deviceId === id).map((c) => c.state);
const failures = (id: string) => m!.h.changes.filter((c) => c.deviceId === id && c.state === 'failed');

/** The device on the fake BlueZ, hanging up with no delay, seen by the central and asked to pair. */
async function pairHangingUp(device: SimPeripheral, id: string, central: typeof FAST | typeof ONCE) {
  m = await modelOverBluez(device, {
    fake: { pairing: 'just-works' },
    bluez: { deviceDropDelayMs: 0 },
    central,
  });
  await m.h.central.start();
  await m.h.waitState(id, 'discovered');
  await m.pair();
}

/** The first connection ended synced: every step once, no failure before it, no retry. */
function expectOneCleanSync(id: string): void {
  expect(failures(id)).toEqual([]);
  expect(states(id)).toEqual([
    'discovered',
    'connecting',
    'bonding',
    'discovering',
    'subscribing',
    'syncing',
    'synced',
  ]);
  expect(m!.syncs()).toBe(1);
}

/** A meter that ends the link (0x13) right after its final RACP response to "report stored records". */
class HangUpAfterRacp extends SimGlucometer {
  hangUps = 0;
  protected override async notify(service: string, characteristic: string, data: Buffer): Promise<boolean> {
    const ok = await super.notify(service, characteristic, data);
    // RACP 0x2A52 response code (0x06), to Report Stored Records (0x01)
    if (ok && characteristic.toUpperCase() === '2A52' && data[0] === 0x06 && data[2] === 0x01) {
      this.hangUps++;
      this.disconnect(0x13);
    }
    return ok;
  }
}

/** A OneTouch Verio that ends the link (0x13) right after its answer for the record at `hangUpAt`. */
class HangUpAfterRecord extends SimOneTouchVerio {
  hangUpAt = 0;
  hangUps = 0;
  protected override async notify(service: string, characteristic: string, data: Buffer): Promise<boolean> {
    const ok = await super.notify(service, characteristic, data);
    // a record answer (not a one-byte acknowledgement) to the index the meter hangs up after
    if (ok && data.length > 1 && this.hangUpAt > 0 && this.recordRequests.at(-1) === this.hangUpAt) {
      this.hangUpAt = 0;
      this.hangUps++;
      this.disconnect(0x13);
    }
    return ok;
  }
}

function records(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: i, seconds: 0 },
    concentration: mgdl(90 + i),
  }));
}

describe('pushed readings: a cuff that ends the link right after its reading', () => {
  it("BlueZ's reply, the reading and the disconnect read together: synced at once, no failure, no retry, the reading once", async () => {
    const ID = 'C0:26:DA:00:04:31';
    const cuff = new SimOmronX4Smart({ address: ID });
    await cuff.measure({ systolic: 126, diastolic: 81, pulse: 66 });
    await pairHangingUp(cuff, ID, ONCE);
    await m!.h.waitState(ID, 'synced');
    expectOneCleanSync(ID);
    await until(() => !cuff.connected, 'the cuff ended the link');
    const panels = m!.h.journal.list({ deviceId: ID }).filter((r) => r.kind === 'blood-pressure');
    expect(panels).toHaveLength(1);
    expect(JSON.stringify(panels[0]?.observation)).toContain('126');
    expect(m!.syncs()).toBe(1);
    expect(cuff.pending).toHaveLength(0);
    expect(m!.h.pipeline.counters.duplicate).toBe(0);
  });

  it('a link lost before any reading came: failed with MEDGW_ERR_BLE_LINK_LOST, retried, the reading once', async () => {
    const ID = 'C0:26:DA:00:04:32';
    // the link drops at the cuff's first indication: nothing received
    const cuff = new SimOmronX4Smart({ address: ID, faults: { disconnectAfterNotifications: 0 } });
    await cuff.measure({ systolic: 131, diastolic: 84, pulse: 70 });
    await pairHangingUp(cuff, ID, FAST);
    const failed = await m!.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(m!.h.journal.list({ deviceId: ID })).toHaveLength(0);
    expect(cuff.pending).toHaveLength(1);
    // the cuff advertises again (the person presses its button): the retry gets the reading
    await until(() => !cuff.connected, 'the lost link');
    cuff.advertise();
    await m!.h.waitState(ID, 'synced');
    await until(() => cuff.pending.length === 0, 'the reading');
    const panels = m!.h.journal.list({ deviceId: ID }).filter((r) => r.kind === 'blood-pressure');
    expect(panels).toHaveLength(1);
    expect(JSON.stringify(panels[0]?.observation)).toContain('131');
  });
});

describe('stored records through RACP: a meter that ends the link right after its final RACP response', () => {
  it('the records, the final response and the disconnect read together: synced, no failure, no retry, each record once', async () => {
    const ID = 'C0:26:DA:00:08:31';
    const meter = new HangUpAfterRacp({ address: ID, records: records(6) });
    await pairHangingUp(meter, ID, ONCE);
    const synced = await m!.h.waitState(ID, 'synced');
    expect(synced.committed).toBe(6);
    await until(() => !meter.connected, 'the meter ended the link');
    expect(meter.hangUps).toBe(1);
    expectOneCleanSync(ID);
    expect(m!.syncs()).toBe(1);
    const rows = m!.h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.observation?.value)).size).toBe(6);
    expect(m!.h.journal.cursor(ID)).toBe(6);
  });

  it('a link lost before the final RACP response: failed with MEDGW_ERR_BLE_LINK_LOST, retried, each record once', async () => {
    const ID = 'C0:26:DA:00:08:32';
    // the count answer and three records get through, then the link drops: no final response
    const meter = new SimGlucometer({
      address: ID,
      records: records(6),
      faults: { disconnectAfterNotifications: 4 },
    });
    await pairHangingUp(meter, ID, FAST);
    const failed = await m!.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(m!.h.journal.list({ deviceId: ID }).length).toBeLessThan(6);
    await m!.h.waitState(ID, 'synced');
    const rows = m!.h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.observation?.value)).size).toBe(6);
    expect(m!.h.journal.cursor(ID)).toBe(6);
  });
});

describe('records read by index: a OneTouch Verio that ends the link right after a record', () => {
  const READINGS: VerioRecord[] = [{ mgdl: 110 }, { mgdl: 125 }, { mgdl: 98 }];

  it('right after the last record (the counter reached): synced, no failure, no retry, each record once', async () => {
    const ID = 'C0:26:DA:00:0A:31';
    const meter = new HangUpAfterRecord({ address: ID, counterStart: 40 });
    const indexes = READINGS.map((r) => meter.measure(r));
    meter.hangUpAt = indexes.at(-1)!;
    await pairHangingUp(meter, ID, ONCE);
    expect(m!.h.central.get(ID)?.driver).toBe('onetouch-verio');
    const synced = await m!.h.waitState(ID, 'synced');
    expect(synced.committed).toBe(3);
    expect(failures(ID)).toEqual([]);
    await until(() => !meter.connected, 'the meter ended the link');
    expect(meter.hangUps).toBe(1);
    expect(meter.recordRequests).toEqual([41, 42, 43]);
    expect(m!.syncs()).toBe(1);
    expect(m!.h.journal.cursor(ID)).toBe(43);
    const rows = m!.h.journal.list({ deviceId: ID });
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([110, 125, 98].sort());
  });

  it('right after the first record (the counter not reached): failed with MEDGW_ERR_BLE_LINK_LOST, retried from the cursor, each record once', async () => {
    const ID = 'C0:26:DA:00:0A:32';
    const meter = new HangUpAfterRecord({ address: ID, counterStart: 40 });
    const indexes = READINGS.map((r) => meter.measure(r));
    meter.hangUpAt = indexes[0]!;
    await pairHangingUp(meter, ID, FAST);
    const failed = await m!.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(meter.hangUps).toBe(1);
    await m!.h.waitState(ID, 'synced');
    expect(m!.h.journal.cursor(ID)).toBe(43);
    const rows = m!.h.journal.list({ deviceId: ID });
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([110, 125, 98].sort());
    expect(m!.h.pipeline.counters.duplicate).toBeLessThanOrEqual(1);
  });
});
