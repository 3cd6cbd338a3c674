/**
 * The standard-path cuffs over the fake BlueZ (private dbus-daemon, noble's D-Bus bindings, the
 * gateway's pairing agent, the real central, pipeline and journal):
 *
 * - Omron X4 Smart: bonded Just Works; only the latest reading after a measurement, the rest at the
 *   transfer the person starts; its Current Time write refused, the clock read corrects the times; a link
 *   lost during the transfer leaves the readings not sent in the cuff, each reading once.
 * - Medisana BU 5xx: recognised by its manufacturer data over D-Bus (BlueZ's ManufacturerData), two users
 *   mapped to two people, and its whole history indicated at every connection: each reading once, also
 *   when the link drops in the middle of the history.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimMedisanaBu5xx } from '../../simulators/ble/medisana-bu5xx.ts';
import { SimOmronX4Smart } from '../../simulators/ble/omron-x4-smart.ts';
import { type ModelBench, modelOverBluez, until } from './harness.ts';

let m: ModelBench<SimOmronX4Smart> | ModelBench<SimMedisanaBu5xx> | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

const panels = (id: string) => m!.h.journal.list({ deviceId: id }).filter((r) => r.kind === 'blood-pressure');
const FAST = { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50 } } as const;

describe('Omron X4 Smart over BlueZ (D-Bus)', () => {
  it('bonds without a code, sends the latest reading, the rest at the transfer; a link lost in the transfer, each once', async () => {
    const ID = 'C0:26:DA:00:04:11';
    const cuff = new SimOmronX4Smart({ address: ID, faults: { disconnectAfterNotifications: 2 } });
    await cuff.measure({ systolic: 133, diastolic: 86, pulse: 70 });
    await cuff.measure({ systolic: 129, diastolic: 84, pulse: 68 });
    await cuff.measure({ systolic: 126, diastolic: 81, pulse: 66 });
    await cuff.measure({ systolic: 124, diastolic: 80, pulse: 64 });
    const om = await modelOverBluez(cuff, { fake: { pairing: 'just-works' }, central: FAST });
    m = om;
    await om.h.central.start();
    await om.h.waitState(ID, 'discovered');
    expect(om.h.central.get(ID)?.driver).toBe('omron-x4-smart');
    await om.pair();
    await om.h.waitState(ID, 'synced');
    expect(om.bluez()).toMatchObject({ paired: true, trusted: true, pairedWith: 'secure-connections' });
    expect(om.b.bluez.agentCalls).toEqual([]);
    expect(om.bonded()).toBe(true);
    // only the latest reading came; the cuff ended the link itself
    await until(() => !cuff.connected, 'the cuff ended the link');
    expect(panels(ID)).toHaveLength(1);
    expect(JSON.stringify(panels(ID)[0]?.observation)).toContain('124');
    expect(cuff.pending).toHaveLength(3);
    expect(cuff.refusedClockWrites).toBe(1);
    expect(om.h.central.get(ID)?.clock).toBe('corrected');

    // the transfer: the link drops after the next reading (two notifications counted since the fault was set)
    let syncs = om.syncs();
    cuff.startTransfer();
    await om.h.waitState(ID, 'synced', syncs + 1);
    await until(() => !cuff.connected, 'the link lost in the transfer');
    expect(cuff.pending.length).toBeGreaterThan(0);
    expect(panels(ID).length).toBeLessThan(4);
    // the person presses the button again: the rest, each reading once
    await new Promise((r) => setTimeout(r, 50));
    syncs = om.syncs();
    cuff.startTransfer();
    await om.h.waitState(ID, 'synced', syncs + 1);
    await until(() => panels(ID).length === 4, 'the rest of the transfer');
    expect(cuff.pending).toHaveLength(0);
    expect(new Set(panels(ID).map((r) => r.id)).size).toBe(4);
    expect(panels(ID).every((r) => r.patientId === 'alice')).toBe(true);
  });
});

describe('Medisana BU 5xx over BlueZ (D-Bus)', () => {
  it('two users, two people; its history re-sent at each connection and cut by a link loss: each reading once', async () => {
    const ID = 'C0:26:DA:00:B5:11';
    const cuff = new SimMedisanaBu5xx({ address: ID });
    await cuff.measure({ systolic: 128, diastolic: 82, pulse: 64, userId: 1 });
    await cuff.measure({ systolic: 141, diastolic: 90, pulse: 71, userId: 2 });
    await cuff.measure({ systolic: 124, diastolic: 79, pulse: 66, userId: 1 });
    const md = await modelOverBluez(cuff, { fake: { pairing: 'just-works' }, central: FAST });
    m = md;
    await md.h.central.start();
    await md.h.waitState(ID, 'discovered');
    // recognised by Medisana's company id in BlueZ's ManufacturerData, not by its name
    expect(md.h.central.get(ID)?.driver).toBe('medisana-bu-5xx');
    // the household: the cuff's user 1 is Alice, user 2 is Bob (as the device page records it)
    await md.h.provision({
      id: ID,
      driver: 'medisana-bu-5xx',
      patientId: 'alice',
      users: { '1': 'alice', '2': 'bob' },
      bond: 'none',
    });
    await md.pair();
    const first = await md.h.waitState(ID, 'synced');
    expect(first.committed).toBe(3);
    expect(md.bluez()).toMatchObject({ paired: true, trusted: true });
    expect(
      panels(ID)
        .map((r) => r.patientId)
        .sort(),
    ).toEqual(['alice', 'alice', 'bob']);

    // next connection: the whole history again, cut after two readings by a link loss
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
    await until(() => panels(ID).length === 4 && cuff.pending.length === 0, 'the new reading', 15_000);
    expect(md.h.pipeline.counters.duplicate).toBeGreaterThanOrEqual(6);
    const rows = panels(ID);
    expect(new Set(rows.map((r) => r.id)).size).toBe(4);
    expect(rows.filter((r) => r.patientId === 'bob')).toHaveLength(2);
  });
});

describe('a cuff that ends the link on the heels of its reading (BlueZ over a busy host)', () => {
  it("BlueZ's reply, the reading and the disconnect read together: synced without a failure, the reading committed once", async () => {
    const ID = 'C0:26:DA:00:04:21';
    const cuff = new SimOmronX4Smart({ address: ID });
    await cuff.measure({ systolic: 126, diastolic: 81, pulse: 66 });
    const om = await modelOverBluez(cuff, {
      fake: { pairing: 'just-works' },
      bluez: { deviceDropDelayMs: 0 },
      central: FAST,
    });
    m = om;
    await om.h.central.start();
    await om.h.waitState(ID, 'discovered');
    await om.pair();
    await om.h.waitState(ID, 'synced');
    await until(() => panels(ID).length === 1, 'the reading');
    // Whatever step saw the link end (noble's StartNotify outlived by the disconnect), the reading came:
    // a completed sync, never a failure and a retry (gateway/ble/session.ts), and the reading is in the
    // journal once.
    const failures = om.h.changes.filter((c) => c.deviceId === ID && c.state === 'failed');
    expect(failures).toEqual([]);
    expect(cuff.pending).toHaveLength(0);
    expect(JSON.stringify(panels(ID)[0]?.observation)).toContain('126');
    expect(om.h.pipeline.counters.duplicate).toBe(0);
  });
});
