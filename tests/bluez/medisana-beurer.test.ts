/**
 * The Medisana BU 5xx, BU 570 ("1872B") and BT 580 (company id 0x7A18) and the Beurer BF105 / BF500 /
 * BF788 / BF950 family over the fake BlueZ (private dbus-daemon, noble's D-Bus bindings, the gateway's
 * pairing agent, the real central, pipeline and journal), as tests/ble-central/medisana-variants.test.ts
 * and beurer-bf950.test.ts run them over the virtual radio:
 *
 * - BU 5xx: recognised by Medisana's company id in BlueZ's ManufacturerData, not by its name;
 * - BU 570: recognised over D-Bus by the Name BlueZ reports ("1872B"), with no ManufacturerData at all;
 * - BT 580: recognised by the company id of BlueZ's ManufacturerData (0x7A18 = 31256), not the BU 5xx's;
 * - all three: paired without a code, two users mapped to two people, and the whole history the cuff indicates
 *   at every connection, cut by a link loss, giving each reading once;
 * - BF950: bonded Just Works, the owner registered on the scale through the User Data Service, the weight
 *   to send and its body composition kept local, a link lost between a weight and its body composition
 *   giving every reading once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimBeurerBf950 } from '../../simulators/ble/beurer-bf950.ts';
import { SimMedisanaBu5xx } from '../../simulators/ble/medisana-bu5xx.ts';
import { SimMedisanaBt580, SimMedisanaBu570 } from '../../simulators/ble/medisana-variants.ts';
import type { BodyReading } from '../../simulators/ble/sanitas-sbf72.ts';
import { type ModelBench, modelOverBluez, until } from './harness.ts';

let m: ModelBench<SimMedisanaBu5xx> | ModelBench<SimBeurerBf950> | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

const FAST = { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50 } } as const;

/** Pairs a Medisana cuff holding two users' readings, then cuts its re-sent history with a link loss. */
async function medisanaOverBluez(cuff: SimMedisanaBu5xx, driver: string): Promise<void> {
  const ID = cuff.address.toUpperCase();
  const panels = () => md.h.journal.list({ deviceId: ID }).filter((r) => r.kind === 'blood-pressure');
  await cuff.measure({ systolic: 128, diastolic: 82, pulse: 64, userId: 1 });
  await cuff.measure({ systolic: 141, diastolic: 90, pulse: 71, userId: 2 });
  await cuff.measure({ systolic: 124, diastolic: 79, pulse: 66, userId: 1 });
  const md = await modelOverBluez(cuff, { fake: { pairing: 'just-works' }, central: FAST });
  m = md;
  await md.h.central.start();
  await md.h.waitState(ID, 'discovered');
  expect(md.h.central.get(ID)?.driver).toBe(driver);
  await md.h.provision({
    id: ID,
    driver,
    patientId: 'alice',
    users: { '1': 'alice', '2': 'bob' },
    bond: 'none',
  });
  await md.pair();
  const first = await md.h.waitState(ID, 'synced');
  expect(first.committed).toBe(3);
  expect(md.bluez()).toMatchObject({ paired: true, trusted: true });
  expect(md.b.bluez.agentCalls).toEqual([]);
  expect(
    panels()
      .map((r) => r.patientId)
      .sort(),
  ).toEqual(['alice', 'alice', 'bob']);

  // next connection: the whole history again and a new reading, cut after two readings by a link loss
  await until(() => md.h.central.get(ID)?.state === 'synced', 'the first sync');
  cuff.disconnect();
  await until(() => !cuff.connected, 'the cuff ended the link');
  cuff.faults.disconnectAfterNotifications = 2;
  await cuff.measure({ systolic: 119, diastolic: 77, pulse: 62, userId: 2 });
  await until(() => cuff.connected, 'the next connection');
  await until(() => !cuff.connected, 'the link lost in the history');
  expect(cuff.pending.length).toBeGreaterThan(0);
  // the cuff advertises again with its history: all of it once more, only the new reading is new
  await new Promise((r) => setTimeout(r, 50));
  cuff.advertise();
  await until(() => panels().length === 4 && cuff.pending.length === 0, 'the new reading', 15_000);
  expect(md.h.pipeline.counters.duplicate).toBeGreaterThanOrEqual(6);
  const rows = panels();
  expect(new Set(rows.map((r) => r.id)).size).toBe(4);
  expect(rows.filter((r) => r.patientId === 'bob')).toHaveLength(2);
  expect(rows.filter((r) => r.patientId === 'alice')).toHaveLength(2);
}

describe('Medisana BU 5xx over BlueZ (D-Bus)', () => {
  it('recognised by its manufacturer data; two users, two people; its history re-sent and cut by a link loss: each reading once', async () => {
    await medisanaOverBluez(new SimMedisanaBu5xx({ address: 'C0:26:DA:00:B5:11' }), 'medisana-bu-5xx');
  });
});

describe('Medisana BU 570 over BlueZ (D-Bus)', () => {
  it('recognised by the name "1872B" alone; pairs, two users, its re-sent history cut by a link loss: each reading once', async () => {
    const cuff = new SimMedisanaBu570({ address: 'C0:26:DA:00:B5:71' });
    expect(cuff.advertisement.manufacturerData).toBeUndefined();
    await medisanaOverBluez(cuff, 'medisana-bu-570');
  });
});

describe('Medisana BT 580 over BlueZ (D-Bus)', () => {
  it("recognised by the company id 0x7A18 in BlueZ's ManufacturerData, whatever its name; pairs, two users, each reading once", async () => {
    // A name that says nothing: only the company id can tell the BT 580 from a generic cuff.
    const cuff = new SimMedisanaBt580({ address: 'C0:26:DA:00:B5:81', advertisement: { localName: 'BP' } });
    expect(cuff.advertisement.manufacturerData?.readUInt16LE(0)).toBe(0x7a18);
    await medisanaOverBluez(cuff, 'medisana-bt-580');
  });
});

const BODY: Omit<BodyReading, 'userIndex'> = {
  kg: 72.5,
  bodyFatPercent: 13.2,
  musclePercent: 44.6,
  waterKg: 44.7,
  softLeanKg: 59.4,
  impedanceOhm: 488,
  basalMetabolismKj: 7300,
};

describe('Beurer BF950 over BlueZ (D-Bus)', () => {
  it('bonds, registers the owner on the scale (UDS consent), weight to send and body composition local; a link loss, each once', async () => {
    const ID = 'C0:26:DA:00:95:11';
    const scale = new SimBeurerBf950({ address: ID, model: 'BF950' });
    const bf = await modelOverBluez(scale, { fake: { pairing: 'just-works' }, central: FAST });
    m = bf;
    await bf.h.central.start();
    await bf.h.waitState(ID, 'discovered');
    expect(bf.h.central.get(ID)?.driver).toBe('beurer-bf950');
    await bf.pair();
    await bf.h.waitState(ID, 'synced');
    expect(bf.bonded()).toBe(true);
    expect(bf.bluez()).toMatchObject({ paired: true, trusted: true });
    // the owner registered on the scale with a consent code the gateway keeps
    expect(scale.users).toHaveLength(1);
    const index = scale.users[0]!.index;
    expect(bf.h.registry.getDevice(ID)).toMatchObject({
      bond: 'bonded',
      users: { [String(index)]: 'alice' },
    });

    // the scale sleeps; two weighings; at the next connection the link drops before composition 2
    scale.disconnect();
    await until(() => !scale.connected, 'the scale ended the link');
    const syncs = bf.syncs();
    scale.measureBody({ ...BODY, userIndex: index });
    scale.measureBody({ ...BODY, kg: 74.7, bodyFatPercent: 13.0, userIndex: index });
    scale.loseLinkBeforeComposition(2);
    expect((await bf.h.waitState(ID, 'failed')).code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(scale.pending).toHaveLength(1);
    // the retry: consent given again with the stored code, the second weighing again, now whole
    await bf.h.waitState(ID, 'synced', syncs + 1);
    await until(() => scale.pending.length === 0, 'both weighings');
    const rows = bf.h.journal.list({ deviceId: ID });
    const weights = rows.filter((r) => r.kind === 'body-weight');
    expect(weights.map((r) => r.observation?.value).sort()).toEqual([72.5, 74.7]);
    expect(weights.every((r) => r.state === 'pending' && r.patientId === 'alice')).toBe(true);
    const local = rows.filter((r) => r.kind !== 'body-weight');
    expect(local).toHaveLength(12);
    expect(local.every((r) => r.observation?.context?.['neverSent'] === true)).toBe(true);
    // weight 2 came twice (before the loss and again with its composition): the second collapsed on its id
    expect(bf.h.pipeline.counters.duplicate).toBe(1);
    expect(scale.users).toHaveLength(1);
  });
});
