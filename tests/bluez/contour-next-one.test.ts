/**
 * Ascensia Contour Next One over the fake BlueZ (private dbus-daemon, noble's D-Bus bindings, the
 * gateway's pairing agent). Out of its pairing mode the meter rejects Pair() (AuthenticationRejected):
 * `medgw pair` fails with MEDGW_ERR_BLE_PAIRING_REFUSED and tells the person how to put the meter in
 * pairing mode, and the devices page says it in French. In pairing mode it pairs with the PIN it shows,
 * its clock is read through CTS and corrects the record times, the control-solution check is left out, its
 * private service is never touched; a link lost in the middle of the RACP transfer gives every record once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { zoneOffsetMinutes } from '../../drivers/normalize/time.ts';
import { SimContourNextOne } from '../../simulators/ble/contour-next-one.ts';
import { Client } from '../web/harness.ts';
import { type GatewayOverBluez, gatewayOverBluez, type ModelBench, modelOverBluez } from './harness.ts';

const FAST_MINUTES = 23;
const PIN = 481_516;

let g: GatewayOverBluez | undefined;
let m: ModelBench<SimContourNextOne> | undefined;
afterEach(async () => {
  await g?.close();
  await m?.close();
  g = undefined;
  m = undefined;
});

/** A meter showing Paris civil time 23 minutes fast, with three tests and one control-solution check. */
function contour(address: string, pairingMode: boolean) {
  const meter = new SimContourNextOne({
    address,
    pairingMode,
    utcOffsetMinutes: zoneOffsetMinutes('Europe/Paris', Date.now()) + FAST_MINUTES,
  });
  meter.measure({ mgdl: 112 });
  meter.measure({ mgdl: 98, type: 10 }); // control solution (GLS Type 10)
  meter.measure({ mgdl: 143 });
  meter.measure({ mgdl: 87 });
  return meter;
}

async function poll(
  c: Client,
  path: string,
  until: (html: string) => boolean,
  what: string,
): Promise<string> {
  let html = '';
  for (let i = 0; i < 300; i++) {
    html = await (await c.go(path)).text();
    if (until(html)) return html;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Contour Next One over BlueZ (D-Bus)', () => {
  it('out of pairing mode: medgw pair says how to enter it; in pairing mode: PIN, sync, clock read, control check left out', async () => {
    const METER = 'C0:26:DA:00:1C:11';
    g = await gatewayOverBluez({}, { web: true });
    const meter = g.bluez.add(contour(METER, false), { pairing: 'passkey-entry', passkeys: () => PIN });
    const takenAt = Date.now();
    await g.discovered(METER);

    const refused = await g.medgw(['pair', METER, '--patient', 'alice']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('how to pair it: With the meter off, press and hold its OK button');
    expect(refused.stdout).toContain('MEDGW_ERR_BLE_PAIRING_REFUSED');
    expect(refused.stdout).toContain('is it in pairing mode?');
    expect(g.bluez.device(METER)).toMatchObject({ paired: false });
    expect(g.gw.ctx.journal.list({ deviceId: METER })).toHaveLength(0);
    // The devices page says it in French: put the meter in pairing mode.
    const c = new Client(g.url);
    await c.login(g.password);
    await poll(
      c,
      '/devices',
      (h) => h.includes('mettez-le en mode appairage et réessayez'),
      'the French reason',
    );

    // The person holds OK until the blue light flashes, pairs again and types the PIN the meter shows.
    meter.pairingMode = true;
    const paired = await g.medgw(['pair', METER, '--patient', 'alice'], `${PIN}\n`);
    expect(paired.stderr).toBe('');
    expect(paired.stdout).toContain('the device shows a 6-digit code: type it here:');
    expect(paired.stdout).toContain('paired and synced (3 readings)');
    expect(paired.code).toBe(0);
    expect(g.bluez.device(METER)).toMatchObject({ paired: true, trusted: true });
    const rows = g.gw.ctx.journal.list({ deviceId: METER });
    // four records on the meter, the control-solution check left out: never stored, never sent
    expect(rows.map((r) => r.observation?.value).sort()).toEqual([112, 143, 87]);
    expect(rows.every((r) => r.patientId === 'alice' && r.kind === 'glucose')).toBe(true);
    // the meter clock, 23 minutes fast and read through CTS, corrected every record time
    for (const r of rows) {
      expect(r.observation?.time.quality).toBe('corrected');
      expect(Math.abs(Date.parse(r.observation?.time.utc ?? '') - takenAt)).toBeLessThan(5_000);
    }
    expect(meter.privateServiceUsed).toBe(0);
  }, 90_000);

  it('a link lost in the middle of the RACP transfer: every record once', async () => {
    const ID = 'C0:26:DA:00:1C:12';
    const meter = new SimContourNextOne({ address: ID, faults: { disconnectAfterNotifications: 9 } });
    for (let i = 0; i < 30; i++) meter.measure({ mgdl: 80 + i });
    m = await modelOverBluez(meter, {
      fake: { pairing: 'passkey-entry', passkeys: () => PIN },
      central: { backoff: { baseMs: 20, maxMs: 50 } },
    });
    await m.h.central.start();
    await m.h.waitState(ID, 'discovered');
    expect(m.h.central.get(ID)?.driver).toBe('ascensia-contour-next-one');
    await m.pair();
    expect((await m.b.nextPrompt(ID)).kind).toBe('passkey');
    m.b.pairing.prompts.answer(ID, { passkey: PIN });
    const failed = await m.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    const before = m.h.journal.list({ deviceId: ID }).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(30);
    await m.h.waitState(ID, 'synced');
    const rows = m.h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.observation?.value)).size).toBe(30);
    expect(m.h.journal.cursor(ID)).toBe(30);
    expect(m.bonded()).toBe(true);
  });
});
