/**
 * Omron X4 Smart over the virtual radio (drivers/definitions/omron-x4-smart.ts,
 * simulators/ble/omron-x4-smart.ts): paired in pairing mode, a Current Time write refused so the times
 * are corrected from the clock read, only the latest reading sent after a measurement, the rest at the
 * transfer the person starts, and each reading once over a link lost during that transfer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { matchAdvertisement } from '../../drivers/definitions/index.ts';
import { SimOmronX4Smart } from '../../simulators/ble/omron-x4-smart.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const panels = (id: string) => h!.journal.list({ deviceId: id }).filter((r) => r.kind === 'blood-pressure');
const syncs = (id: string) => h!.changes.filter((c) => c.deviceId === id && c.state === 'synced').length;

describe('Omron X4 Smart', () => {
  it('is recognized by its name on the standard service', () => {
    expect(matchAdvertisement({ localName: 'X4 Smart', serviceUuids: ['1810'] })?.id).toBe('omron-x4-smart');
  });

  it('pairs, sends only the latest reading after a measurement, the rest at the transfer; each once', async () => {
    const ID = 'C0:26:DA:00:04:01';
    const cuff = new SimOmronX4Smart({ address: ID });
    // Two readings taken at home while the gateway was away, then one more.
    await cuff.measure({ systolic: 133, diastolic: 86, pulse: 70 });
    await cuff.measure({ systolic: 129, diastolic: 84, pulse: 68 });
    await cuff.measure({ systolic: 126, diastolic: 81, pulse: 66 });
    h = await harness([cuff], { timing: { cooldownMs: 0 } });
    await h.central.start();
    await h.waitState(ID, 'discovered');
    expect(h.central.get(ID)?.driver).toBe('omron-x4-smart');
    await h.central.pair(ID, { patientId: 'alice' });
    const first = await h.waitState(ID, 'synced');
    expect(cuff.isBonded(h.radio.centralAddress)).toBe(true);
    // Only the latest reading came; the cuff ended the connection itself.
    expect(first.committed).toBe(1);
    expect(panels(ID)).toHaveLength(1);
    expect(JSON.stringify(panels(ID)[0]?.observation)).toContain('126');
    expect(cuff.pending).toHaveLength(2);
    await until(() => !cuff.connected, 'the cuff ended the link');
    // Its clock write was refused: the clock read corrects the times.
    expect(cuff.refusedClockWrites).toBe(1);
    expect(h.central.get(ID)?.clock).toBe('corrected');

    // A short press on the Bluetooth button: the transfer sends the two older readings.
    const before = syncs(ID);
    cuff.startTransfer();
    await h.waitState(ID, 'synced', before + 1);
    await until(() => panels(ID).length === 3, 'the transfer');
    expect(cuff.pending).toHaveLength(0);
    expect(h.pipeline.counters.duplicate).toBe(0);
    expect(panels(ID).every((r) => r.patientId === 'alice')).toBe(true);
  });

  it('a link lost during the transfer: the readings not sent stay in the cuff and come next time, each once', async () => {
    const ID = 'C0:26:DA:00:04:02';
    const cuff = new SimOmronX4Smart({ address: ID, faults: { disconnectAfterNotifications: 1 } });
    for (const sys of [131, 127, 124]) await cuff.measure({ systolic: sys, diastolic: 80, pulse: 64 });
    h = await harness([cuff], { timing: { cooldownMs: 0 } });
    await h.provision({ id: ID, driver: 'omron-x4-smart', patientId: 'alice' });
    cuff.bond(h.radio.centralAddress);
    cuff.startTransfer();
    await h.central.start();
    await h.waitState(ID, 'synced');
    await until(() => !cuff.connected, 'the link lost');
    expect(panels(ID)).toHaveLength(1);
    expect(cuff.pending).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 50));
    cuff.startTransfer();
    await h.waitState(ID, 'synced', 2);
    await until(() => panels(ID).length === 3, 'the rest of the transfer');
    expect(cuff.pending).toHaveLength(0);
    expect(new Set(panels(ID).map((r) => r.id)).size).toBe(3);
  });
});
