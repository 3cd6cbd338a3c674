/**
 * OneTouch Verio over the fake BlueZ (private dbus-daemon): noble's D-Bus bindings, the gateway's pairing
 * agent, the real session, pipeline and SQLite journal. The meter pairs with the PIN it shows, its stored
 * records reach the journal once through LifeScan's own service (128-bit UUIDs over D-Bus), and a meter
 * registered as bonded that BlueZ never bonded is refused with MEDGW_ERR_BLE_NOT_BONDED.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimOneTouchVerio } from '../../simulators/ble/onetouch-verio.ts';
import type { PairingMethod } from '../../simulators/bluez/fake-bluez.ts';
import { type ModelBench, modelOverBluez } from './harness.ts';

let m: ModelBench<SimOneTouchVerio> | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

const ID = 'C0:26:DA:00:0A:21';

async function start(pairing: PairingMethod, mgdls: readonly number[]) {
  const meter = new SimOneTouchVerio({ address: ID, counterStart: 40 });
  m = await modelOverBluez(meter, { fake: { pairing }, central: { timing: { cooldownMs: 200 } } });
  for (const mgdl of mgdls) meter.measure({ mgdl });
  await m.h.central.start();
  await m.h.waitState(ID, 'discovered');
  return meter;
}

describe('OneTouch Verio over BlueZ (D-Bus)', () => {
  it('pairs with the PIN the meter shows and commits its stored records once', async () => {
    const meter = await start('passkey-entry', [110, 125, 98]);
    expect(m!.h.central.get(ID)?.driver).toBe('onetouch-verio');
    await m!.h.central.pair(ID, { patientId: 'alice' });
    const prompt = await m!.b.nextPrompt(ID);
    expect(prompt.kind).toBe('passkey');
    m!.b.pairing.prompts.answer(ID, { passkey: m!.b.bluez.device(ID)!.displayedPasskey! });
    const synced = await m!.h.waitState(ID, 'synced');
    expect(synced.committed).toBe(3);
    expect(meter.refusedCommands).toBe(0);
    expect(meter.recordRequests).toEqual([41, 42, 43]);
    expect(m!.h.journal.cursor(ID)).toBe(43);
    const rows = m!.h.journal.list({ deviceId: ID });
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([110, 125, 98].sort());
    expect(m!.b.bluez.device(ID)).toMatchObject({ paired: true, bonded: true });
  });

  it('a meter registered as bonded that BlueZ never bonded: MEDGW_ERR_BLE_NOT_BONDED, nothing read', async () => {
    const meter = await start('just-works', [140]);
    await m!.h.provision({ id: ID, driver: 'onetouch-verio', patientId: 'alice' });
    const failed = await m!.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_NOT_BONDED');
    expect(meter.recordRequests).toEqual([]);
    expect(m!.h.journal.list({ deviceId: ID })).toHaveLength(0);
  });
});
