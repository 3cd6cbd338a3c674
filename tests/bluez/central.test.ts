/**
 * The BLE central in `dbus` mode end to end: noble's D-Bus bindings and the gateway's pairing agent on
 * the fake BlueZ (private dbus-daemon), the real session, pipeline and SQLite journal. A meter that
 * answers only once bonded pairs with a passkey the person types, its stored glucose records reach the
 * journal exactly once; a device that forgot the gateway is explained and paired again; a link loss in
 * the middle of the transfer resumes after the cursor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import type { PairingMethod } from '../../simulators/bluez/fake-bluez.ts';
import { type Harness, harness, until } from '../ble-central/harness.ts';
import { type BluezBench, bluezBench } from './harness.ts';

let b: BluezBench | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  await b?.close();
  h = undefined;
  b = undefined;
});

const ID = 'C0:26:DA:00:00:21';

function meter(count: number, faults = {}) {
  const records = Array.from({ length: count }, (_, i) => ({
    baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: i, seconds: 0 },
    concentration: mgdl(90 + i),
    context: { meal: 1 + (i % 3) },
  }));
  return new SimGlucometer({ address: ID, records, faults, requireBonding: true });
}

async function start(pairing: PairingMethod = 'passkey-entry', count = 12, faults = {}) {
  b = await bluezBench({ advertisingIntervalMs: 50 });
  const g = b.bluez.add(meter(count, faults), { pairing });
  const bench = b;
  h = await harness([], {
    noble: () => bench.noble(),
    bonding: bench.pairing,
    timing: { cooldownMs: 200 },
  });
  await h.central.start();
  await h.waitState(ID, 'discovered');
  return g;
}

/** Plays the person: reads the code on the meter's screen and types it when the gateway asks. */
async function typeShownCode(bench: BluezBench): Promise<void> {
  const prompt = await bench.nextPrompt(ID);
  expect(prompt.kind).toBe('passkey');
  bench.pairing.prompts.answer(ID, { passkey: bench.bluez.device(ID)!.displayedPasskey! });
}

describe('BLE central over BlueZ (D-Bus)', () => {
  it('pairs a meter with the passkey it shows and syncs every stored record into the journal once', async () => {
    const g = await start('passkey-entry', 12);
    await h!.central.pair(ID, { patientId: 'alice' });
    await typeShownCode(b!);
    const synced = await h!.waitState(ID, 'synced');
    expect(synced.committed).toBe(12);
    const states = h!.changes.filter((c) => c.deviceId === ID).map((c) => c.state);
    expect(states).toEqual([
      'discovered',
      'connecting',
      'bonding',
      'discovering',
      'subscribing',
      'syncing',
      'synced',
    ]);
    const rows = h!.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(12);
    expect(new Set(rows.map((r) => r.id)).size).toBe(12);
    expect(rows.every((r) => r.patientId === 'alice' && r.kind === 'glucose')).toBe(true);
    expect(h!.journal.cursor(ID)).toBe(12);
    expect(b!.bluez.device(ID)).toMatchObject({ paired: true, bonded: true, trusted: true });
    expect(h!.registry.getDevice(ID)?.bond).toBe('bonded');
    await until(() => !g.connected, 'the meter released after its transfer');

    // A new reading: the bonded link is encrypted at once, no prompt, only the new record.
    g.measure({ mgdl: 111, context: { meal: 3 } });
    const again = await h!.waitState(ID, 'synced', 2);
    expect(again.committed).toBe(1);
    expect(h!.journal.list({ deviceId: ID })).toHaveLength(13);
    expect(b!.bluez.agentCalls.map((c) => c.method)).toEqual(['RequestPasskey']);
  });

  it('a wrong passkey fails the pairing with MEDGW_ERR_BLE_PASSKEY_WRONG and nothing is read', async () => {
    await start('passkey-entry', 3);
    await h!.central.pair(ID, { patientId: 'alice' });
    await b!.nextPrompt(ID);
    b!.pairing.prompts.answer(ID, { passkey: (b!.bluez.device(ID)!.displayedPasskey! + 7) % 1_000_000 });
    const failed = await h!.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_PASSKEY_WRONG');
    expect(h!.journal.list({ deviceId: ID })).toHaveLength(0);
    expect(b!.bluez.device(ID)?.paired).toBe(false);
    // The retry asks again; the right code this time.
    await typeShownCode(b!);
    await h!.waitState(ID, 'synced');
    expect(h!.journal.list({ deviceId: ID })).toHaveLength(3);
  });

  it('a meter registered as bonded that BlueZ never bonded answers "Not paired": MEDGW_ERR_BLE_NOT_BONDED', async () => {
    await start('just-works', 2);
    await h!.provision({ id: ID, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    const failed = await h!.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_NOT_BONDED');
    expect(h!.journal.list({ deviceId: ID })).toHaveLength(0);
    await h!.central.pair(ID);
    await h!.waitState(ID, 'synced');
    expect(h!.journal.list({ deviceId: ID })).toHaveLength(2);
  });

  it('a meter that forgot the gateway: MEDGW_ERR_BLE_BOND_LOST, then repair pairs it again and nothing is duplicated', async () => {
    const g = await start('numeric-comparison', 4);
    await h!.central.pair(ID, { patientId: 'alice' });
    const prompt = await b!.nextPrompt(ID);
    expect(prompt).toMatchObject({ kind: 'confirm', passkey: b!.bluez.device(ID)!.displayedPasskey });
    b!.pairing.prompts.answer(ID, { confirm: true });
    await h!.waitState(ID, 'synced');
    await until(() => !g.connected, 'released');

    g.clearBonds(); // the meter was reset: it no longer knows the gateway's key
    g.measure({ mgdl: 131, context: { meal: 1 } });
    const failed = await h!.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_BOND_LOST');
    expect(h!.central.get(ID)?.lastError?.code).toBe('MEDGW_ERR_BLE_BOND_LOST');

    await h!.central.repair(ID);
    const next = await b!.nextPrompt(ID);
    expect(next.kind).toBe('confirm');
    b!.pairing.prompts.answer(ID, { confirm: true });
    await h!.waitState(ID, 'synced', 2);
    // A fresh pairing fetches everything again: the 4 known records collapse, the new one is added.
    const rows = h!.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.id)).size).toBe(5);
    expect(h!.registry.getDevice(ID)?.patientId).toBe('alice');
  });

  it('a link loss in the middle of the transfer resumes after the cursor: each record once', async () => {
    await start('just-works', 30, { disconnectAfterNotifications: 11 });
    await h!.central.pair(ID, { patientId: 'alice' });
    const failed = await h!.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    const before = h!.journal.list({ deviceId: ID }).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(30);
    expect(h!.journal.cursor(ID)).toBe(before);
    await h!.waitState(ID, 'synced');
    const rows = h!.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.id)).size).toBe(30);
    expect(h!.journal.cursor(ID)).toBe(30);
  });
});
