/**
 * Device identity over the virtual radio: the session reads Device Information (DIS v1.1, UDI from
 * v1.2) and stores the System ID as the canonical EUI-64 (OUI first), whatever order the bytes travel in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { type Harness, harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const record = {
  baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: 0, seconds: 0 },
  concentration: mgdl(101),
  context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
};

describe('BLE central: device identity', () => {
  it('stores the EUI-64 OUI first, the hardware and software revisions and the UDI', async () => {
    const id = 'C0:26:DA:00:0E:01';
    const g = new SimGlucometer({
      address: id,
      records: [record],
      info: {
        hardware: 'HW 1.2',
        software: 'SW 3.4.5',
        udi: { label: '(01)10884521062856(21)1234', deviceIdentifier: '10884521062856', issuer: 'GS1' },
      },
    });
    h = await harness([g], { timing: { cooldownMs: 300 } });
    await h.central.start();
    await h.waitState(id, 'discovered');
    await h.central.pair(id, { patientId: 'alice' });
    await h.waitState(id, 'synced');
    const identity = h.registry.getDevice(id)?.identity;
    // The bytes on the air are 01 0E 00 FE FF DA 26 C0 (least significant octet first).
    expect(identity?.systemId).toBe('C0-26-DA-FF-FE-00-0E-01');
    expect(identity).toMatchObject({
      hardware: 'HW 1.2',
      software: 'SW 3.4.5',
      udi: { label: '(01)10884521062856(21)1234', deviceIdentifier: '10884521062856', issuer: 'GS1' },
    });
    expect(identity?.udi?.authority).toBeUndefined();
  });

  it('an all-zero System ID (the PHD IG "no system id") is left out: the device is not merged with others', async () => {
    const id = 'C0:26:DA:00:0E:02';
    const g = new SimGlucometer({
      address: id,
      records: [record],
      info: { systemId: '00-00-00-00-00-00-00-00' },
    });
    h = await harness([g], { timing: { cooldownMs: 300 } });
    await h.central.start();
    await h.waitState(id, 'discovered');
    await h.central.pair(id, { patientId: 'alice' });
    const synced = await h.waitState(id, 'synced');
    expect(synced.committed).toBe(1);
    const identity = h.registry.getDevice(id)?.identity;
    expect(identity?.systemId).toBeUndefined();
    expect(identity?.manufacturer).toBe('Medgw Sim');
  });
});
