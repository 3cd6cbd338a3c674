/**
 * OneTouch Verio over the fake BlueZ (private dbus-daemon): noble's D-Bus bindings, the gateway's pairing
 * agent, the real session, pipeline and SQLite journal. The meter pairs with the PIN it shows, its stored
 * records reach the journal once through LifeScan's own service (128-bit UUIDs over D-Bus), and a meter
 * registered as bonded that BlueZ never bonded is refused with MEDGW_ERR_BLE_NOT_BONDED.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimOneTouchVerio } from '../../simulators/ble/onetouch-verio.ts';
import type { PairingMethod } from '../../simulators/bluez/fake-bluez.ts';
import { type Harness, harness } from '../ble-central/harness.ts';
import { type BluezBench, bluezBench } from './harness.ts';

let b: BluezBench | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  await b?.close();
  h = undefined;
  b = undefined;
});

const ID = 'C0:26:DA:00:0A:21';

async function start(pairing: PairingMethod, mgdls: readonly number[]) {
  b = await bluezBench({ advertisingIntervalMs: 50 });
  const meter = new SimOneTouchVerio({ address: ID, counterStart: 40 });
  b.bluez.add(meter, { pairing });
  const bench = b;
  h = await harness([], { noble: () => bench.noble(), bonding: bench.pairing, timing: { cooldownMs: 200 } });
  for (const mgdl of mgdls) meter.measure({ mgdl });
  await h.central.start();
  await h.waitState(ID, 'discovered');
  return meter;
}

describe('OneTouch Verio over BlueZ (D-Bus)', () => {
  it('pairs with the PIN the meter shows and commits its stored records once', async () => {
    const meter = await start('passkey-entry', [110, 125, 98]);
    expect(h!.central.get(ID)?.driver).toBe('onetouch-verio');
    await h!.central.pair(ID, { patientId: 'alice' });
    const prompt = await b!.nextPrompt(ID);
    expect(prompt.kind).toBe('passkey');
    b!.pairing.prompts.answer(ID, { passkey: b!.bluez.device(ID)!.displayedPasskey! });
    const synced = await h!.waitState(ID, 'synced');
    expect(synced.committed).toBe(3);
    expect(meter.refusedCommands).toBe(0);
    expect(meter.recordRequests).toEqual([41, 42, 43]);
    expect(h!.journal.cursor(ID)).toBe(43);
    const rows = h!.journal.list({ deviceId: ID });
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([110, 125, 98].sort());
    expect(b!.bluez.device(ID)).toMatchObject({ paired: true, bonded: true });
  });

  it('a meter registered as bonded that BlueZ never bonded: MEDGW_ERR_BLE_NOT_BONDED, nothing read', async () => {
    const meter = await start('just-works', [140]);
    await h!.provision({ id: ID, driver: 'onetouch-verio', patientId: 'alice' });
    const failed = await h!.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_NOT_BONDED');
    expect(meter.recordRequests).toEqual([]);
    expect(h!.journal.list({ deviceId: ID })).toHaveLength(0);
  });
});
