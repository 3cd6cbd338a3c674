/**
 * The standard-path cuffs over the fake BlueZ (private dbus-daemon, noble's D-Bus bindings, the
 * gateway's pairing agent, the real central, pipeline and journal):
 *
 * - Omron X4 Smart: bonded Just Works; only the latest reading after a measurement, the rest at the
 *   transfer the person starts; its Current Time write refused, the clock read corrects the times; a link
 *   lost during the transfer leaves the readings not sent in the cuff, each reading once.
 * The Medisana cuffs run in medisana-beurer.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimOmronX4Smart } from '../../simulators/ble/omron-x4-smart.ts';
import { type ModelBench, modelOverBluez, until } from './harness.ts';

let m: ModelBench<SimOmronX4Smart> | undefined;
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
