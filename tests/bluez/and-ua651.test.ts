/**
 * A&D UA-651BLE over the fake BlueZ (private dbus-daemon, noble's D-Bus bindings, the gateway's pairing
 * agent, the real central, pipeline and journal). Its two quirks as BlueZ meets them:
 *
 * - LE legacy pairing, Just Works: bluetoothd pairs it without calling the agent (org.bluez.Agent(5): no
 *   RequestPinCode, which is for BR/EDR devices older than Secure Simple Pairing); an adapter in Secure
 *   Connections Only mode (main.conf `SecureConnections = only`) refuses it.
 * - It switches itself off when a service discovery keeps it busy (andengineering/AndroidSampleCode#1).
 *   Over the virtual radio the definition discovers only the services it reads; over D-Bus it cannot:
 *   bluetoothd discovers the whole database at the first connection, then keeps it (main.conf [GATT]
 *   `Cache = always`). The model: the cuff sits through what discovering its three first services
 *   takes at Linux's default connection interval (50 ms, the virtual radio's discovery budget); the
 *   whole database takes longer at 50 ms and fits at 7.5 ms (main.conf [LE] `MinConnectionInterval = 6`,
 *   `MaxConnectionInterval = 6`, docs/deploy.md). Later connections discover nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimAndUa651, UA651_DISCOVERY_BUDGET } from '../../simulators/ble/and-ua651.ts';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import type { SimPeripheral } from '../../simulators/ble/peripheral.ts';
import { type ModelBench, modelOverBluez, until } from './harness.ts';

let m: ModelBench<SimAndUa651> | ModelBench<SimCuff> | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

/** ATT requests of discovering `services` (as the fake counts them: fake-bluez.ts discoveryRequests). */
function requests(services: ReturnType<SimPeripheral['gatt']>): number {
  let n = 1;
  for (const s of services) {
    n += 1 + s.characteristics.length;
    for (const c of s.characteristics)
      if (c.properties.includes('notify') || c.properties.includes('indicate')) n += 1;
  }
  return n;
}

/** How long the cuff sits through a discovery: its first three services at Linux's default 50 ms interval. */
function tolerance(cuff: SimAndUa651): number {
  return requests(cuff.gatt().slice(0, UA651_DISCOVERY_BUDGET)) * 50;
}

async function cuffOverBluez(
  id: string,
  options: { intervalMs?: number; secureConnections?: 'on' | 'only'; faults?: object } = {},
) {
  const cuff = new SimAndUa651({ address: id, ...(options.faults ? { faults: options.faults } : {}) });
  m = await modelOverBluez(cuff, {
    fake: { pairing: 'just-works', legacyPairing: true, switchesOffAfterDiscoveryMs: tolerance(cuff) },
    bluez: {
      ...(options.intervalMs !== undefined ? { connectionIntervalMs: options.intervalMs } : {}),
      ...(options.secureConnections ? { secureConnections: options.secureConnections } : {}),
    },
    central: { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50, maxAttempts: 3 } },
  });
  await cuff.measure({ systolic: 131, diastolic: 84, pulse: 66 });
  await cuff.measure({ systolic: 127, diastolic: 81, pulse: 70 });
  await m.h.central.start();
  await m.h.waitState(id, 'discovered');
  expect(m.h.central.get(id)?.driver).toBe('and-ua-651ble');
  return cuff;
}

const panels = (id: string) => m!.h.journal.list({ deviceId: id }).filter((r) => r.kind === 'blood-pressure');

describe('A&D UA-651BLE over BlueZ (D-Bus)', () => {
  it('legacy Just Works without asking the person; the database discovered once at 7.5 ms; each reading once', async () => {
    const ID = 'C0:26:DA:00:06:61';
    const cuff = await cuffOverBluez(ID, { intervalMs: 7.5 });
    await m!.pair();
    const synced = await m!.h.waitState(ID, 'synced');
    expect(synced.committed).toBe(2);
    // legacy pairing, Just Works: bluetoothd asked the agent nothing
    expect(m!.bluez()).toMatchObject({ paired: true, trusted: true, pairedWith: 'legacy' });
    expect(m!.b.bluez.agentCalls).toEqual([]);
    expect(m!.bonded()).toBe(true);
    // one discovery, of the whole database, within what the cuff sits through
    expect(m!.bluez().discoveries).toHaveLength(1);
    expect(m!.bluez().discoveries[0]!.requests).toBe(requests(cuff.gatt()));
    expect(m!.bluez().discoveries[0]!.ms).toBeLessThanOrEqual(tolerance(cuff));
    expect(cuff.switchedOff).toBe(0);
    expect(cuff.clockWrites).toHaveLength(1);
    expect(panels(ID)).toHaveLength(2);

    // the cuff ends the link once it sent its readings; the next measurement reconnects: BlueZ's cache, no discovery
    await until(() => !cuff.connected, 'the cuff ended the link');
    const before = m!.syncs();
    await cuff.measure({ systolic: 122, diastolic: 79, pulse: 64 });
    await m!.h.waitState(ID, 'synced', before + 1);
    await until(() => panels(ID).length === 3, 'the third reading');
    expect(m!.bluez().discoveries).toHaveLength(1);
    expect(cuff.switchedOff).toBe(0);
    expect(new Set(panels(ID).map((r) => r.id)).size).toBe(3);
    expect(panels(ID).every((r) => r.patientId === 'alice')).toBe(true);
  });

  it("at Linux's default 50 ms interval bluetoothd's discovery outlasts the cuff: it switches off, nothing is read or lost", async () => {
    const ID = 'C0:26:DA:00:06:62';
    const cuff = await cuffOverBluez(ID);
    await m!.pair();
    const failed = await m!.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(cuff.switchedOff).toBe(1);
    expect(m!.bluez().discoveries[0]!.ms).toBeGreaterThan(tolerance(cuff));
    // nothing cached from the aborted discovery, nothing read: both readings stay on the cuff
    expect(cuff.pending).toHaveLength(2);
    expect(m!.h.journal.list({ deviceId: ID })).toHaveLength(0);
  });

  it('an adapter in Secure Connections Only mode refuses its legacy pairing: MEDGW_ERR_BLE_LEGACY_PAIRING says what to set, nothing bonded', async () => {
    const ID = 'C0:26:DA:00:06:63';
    const cuff = await cuffOverBluez(ID, { intervalMs: 7.5, secureConnections: 'only' });
    await m!.pair();
    const failed = await m!.h.waitState(ID, 'failed');
    // its definition says legacy pairing only, and BlueZ failed the pairing before asking anything: the
    // adapter's mode, not the cuff, refused it; the person is told what to change, not to press a button
    expect(failed.code).toBe('MEDGW_ERR_BLE_LEGACY_PAIRING');
    expect(failed.message).toContain('only supports legacy pairing');
    expect(failed.message).toContain('SecureConnections = on in /etc/bluetooth/main.conf');
    expect(failed.message).not.toContain('pairing mode');
    expect(m!.bluez().paired).toBe(false);
    expect(m!.bonded()).toBe(false);
    expect(cuff.pending).toHaveLength(2);
    expect(m!.h.journal.list({ deviceId: ID })).toHaveLength(0);
  });

  it('a link lost after the first indication: the rest comes at the next connection, each reading once', async () => {
    const ID = 'C0:26:DA:00:06:64';
    const cuff = await cuffOverBluez(ID, { intervalMs: 7.5, faults: { disconnectAfterNotifications: 1 } });
    await m!.pair();
    await until(() => panels(ID).length === 2 && cuff.pending.length === 0, 'both readings', 15_000);
    expect(
      m!.h.changes.filter((c) => c.deviceId === ID && c.state === 'connecting').length,
    ).toBeGreaterThanOrEqual(2);
    expect(new Set(panels(ID).map((r) => r.id)).size).toBe(2);
    expect(m!.bluez().discoveries).toHaveLength(1);
  });
  it('a model not known as legacy-only refused the same way: MEDGW_ERR_BLE_PAIRING_REFUSED names both causes', async () => {
    const ID = 'C0:26:DA:00:06:65';
    const cuff = new SimCuff({ address: ID });
    await cuff.measure({ systolic: 122, diastolic: 79, pulse: 61 });
    m = await modelOverBluez(cuff, {
      fake: { pairing: 'just-works', legacyPairing: true },
      bluez: { secureConnections: 'only' },
      central: { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50, maxAttempts: 1 } },
    });
    await m.h.central.start();
    await m.h.waitState(ID, 'discovered');
    expect(m.h.central.get(ID)?.driver).toBe('generic-blood-pressure');
    await m.pair();
    const failed = await m.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_PAIRING_REFUSED');
    expect(failed.message).toContain('pairing mode');
    expect(failed.message).toContain('SecureConnections = on in /etc/bluetooth/main.conf');
    expect(m.bluez().paired).toBe(false);
    expect(cuff.pending).toHaveLength(1);
  });

  it('a device that rejects the pairing (not in pairing mode) with Secure Connections on: the pairing-mode wording alone', async () => {
    const ID = 'C0:26:DA:00:06:66';
    const cuff = new SimCuff({ address: ID });
    m = await modelOverBluez(cuff, {
      fake: { pairing: 'just-works', refusePairing: true },
      central: { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50, maxAttempts: 1 } },
    });
    await m.h.central.start();
    await m.h.waitState(ID, 'discovered');
    await m.pair();
    const failed = await m.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_PAIRING_REFUSED');
    expect(failed.message).toContain('is it in pairing mode?');
    expect(failed.message).not.toContain('SecureConnections');
  });
});
