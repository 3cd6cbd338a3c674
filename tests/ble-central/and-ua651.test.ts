/**
 * A&D UA-651BLE over the virtual radio (drivers/definitions/and-ua-651ble.ts, simulators/ble/and-ua651.ts):
 * the cuff switches itself off when a central discovers every service, so its definition discovers only
 * the services it reads. With the definition: pairing, bonding, the stored readings pushed, committed
 * once, the cuff ending the connection itself. With the generic blood-pressure driver (full discovery):
 * the cuff switches off, the connection fails with MEDGW_ERR_BLE_LINK_LOST, nothing is committed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findDefinition } from '../../drivers/definitions/index.ts';
import { SimAndUa651, UA651_DISCOVERY_BUDGET } from '../../simulators/ble/and-ua651.ts';
import { type Harness, harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Two readings stored on the cuff, taken while its clock ran 37 minutes fast (after it joined the radio). */
async function measureTwice(cuff: SimAndUa651): Promise<void> {
  cuff.shiftClock(37 * 60_000);
  await cuff.measure({ systolic: 131, diastolic: 84, pulse: 66 });
  await cuff.measure({ systolic: 127, diastolic: 81, pulse: 70 });
}

describe('A&D UA-651BLE', () => {
  it('is paired through its definition: only the needed services are discovered, both readings committed once', async () => {
    const ID = 'C0:26:DA:00:06:51';
    const cuff = new SimAndUa651({ address: ID });
    // The simulated cuff has more services than it tolerates discovering.
    expect(cuff.gatt().length).toBeGreaterThan(UA651_DISCOVERY_BUDGET);
    h = await harness([cuff]);
    await measureTwice(cuff);
    await h.central.start();
    await h.waitState(ID, 'discovered');
    expect(h.central.get(ID)?.driver).toBe('and-ua-651ble');
    await h.central.pair(ID, { patientId: 'alice' });
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(2);
    expect(cuff.switchedOff).toBe(0);
    expect(cuff.isBonded(h.radio.centralAddress)).toBe(true);
    expect(cuff.pending).toHaveLength(0);
    const stored = h.journal.list({ deviceId: ID });
    // Each reading is a blood-pressure panel and a heart rate.
    expect(stored.map((r) => r.kind).sort()).toEqual([
      'blood-pressure',
      'blood-pressure',
      'heart-rate',
      'heart-rate',
    ]);
    expect(stored.every((r) => r.patientId === 'alice')).toBe(true);
    expect(h.registry.getDevice(ID)).toMatchObject({ bond: 'bonded', driver: 'and-ua-651ble' });
    expect(findDefinition('and-ua-651ble').pairing).toBe('legacy');
    // The cuff clock was set through its Date Time 0x2A08 (it has no Current Time Service).
    expect(cuff.gatt().some((s) => s.uuid === '1805')).toBe(false);
    expect(cuff.clockWrites).toHaveLength(1);
    expect(h.central.get(ID)?.clock).toBe('synced');
    // The readings were taken before, with a clock nobody could read: their time stays untrusted.
    expect(stored.every((r) => r.observation?.time.quality === 'untrusted')).toBe(true);
    // After the clock write, the cuff clock shows the gateway's local time, no longer 37 minutes fast.
    // (Europe/Paris in the harness: UTC+1 in winter, UTC+2 in summer.)
    const ahead = (cuff.deviceWallMs() - Date.now()) / 60_000;
    expect(Math.min(Math.abs(ahead - 60), Math.abs(ahead - 120))).toBeLessThan(1);
  });

  it('switches itself off under the generic driver, which discovers every service: nothing is committed', async () => {
    const ID = 'C0:26:DA:00:06:52';
    const cuff = new SimAndUa651({ address: ID });
    h = await harness([cuff], { backoff: { maxAttempts: 1 } });
    await measureTwice(cuff);
    await h.provision({ id: ID, patientId: 'alice', driver: 'generic-blood-pressure' });
    cuff.bond(h.radio.centralAddress);
    await h.central.start();
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(cuff.switchedOff).toBe(1);
    expect(cuff.off).toBe(true);
    expect(cuff.pending).toHaveLength(2);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(0);
  });
});
