/**
 * The devices page in `dbus` mode, over HTTP: the gateway's BLE central on noble's D-Bus bindings and
 * the pairing agent, on the fake BlueZ of a private dbus-daemon. The person pairs a meter that shows a
 * passkey by typing it on the page, in French; when the meter was reset, its page says so in plain
 * words and "Appairer de nouveau" pairs it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { Client } from '../web/harness.ts';
import { type GatewayOverBluez, gatewayOverBluez } from './harness.ts';

const METER = 'C0:26:DA:00:0C:01';
let g: GatewayOverBluez;
let meter: SimGlucometer;

beforeAll(async () => {
  g = await gatewayOverBluez({}, { web: true });
  meter = g.bluez.add(
    new SimGlucometer({
      address: METER,
      requireBonding: true,
      records: [0, 1, 2].map((i) => ({
        baseTime: { year: 2026, month: 11, day: 3, hours: 8 + i, minutes: 0, seconds: 0 },
        concentration: mgdl(100 + i),
        context: { meal: 3 },
      })),
    }),
    { pairing: 'passkey-entry' },
  );
});

afterAll(async () => {
  await g?.close();
});

const journalRows = () => g.gw.ctx.journal.list({ deviceId: METER }).length;

async function poll(
  c: Client,
  path: string,
  until: (html: string) => boolean,
  what: string,
): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const html = await (await c.go(path)).text();
    if (until(html)) return html;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the devices page over BlueZ', () => {
  it('asks for the code the meter shows, pairs with it, and offers to pair again after a reset', async () => {
    const c = new Client(g.url);
    const csrf = await c.login(g.password);
    await poll(c, '/devices', (h) => h.includes(METER), 'the meter nearby');
    expect((await c.go('/devices/pair', { form: { _csrf: csrf, address: METER } })).status).toBe(303);

    const asked = await poll(
      c,
      '/devices',
      (h) => h.includes('data-question="passkey"'),
      'the passkey field',
    );
    expect(asked).toContain('Code affiché sur l’appareil');
    // a code that is not 6 digits is refused on the page, the question stays
    await c.go('/devices/pair/answer', { form: { _csrf: csrf, address: METER, passkey: '12' } });
    expect(await (await c.go('/devices')).text()).toContain('code: the 6 digits the device shows');
    const shown = String(g.bluez.device(METER)?.displayedPasskey).padStart(6, '0');
    const typed = `${shown.slice(0, 3)} ${shown.slice(3)}`; // as the meter shows it, with a space
    expect(
      (await c.go('/devices/pair/answer', { form: { _csrf: csrf, address: METER, passkey: typed } })).status,
    ).toBe(303);
    await poll(c, '/devices', () => journalRows() === 3, 'the records stored');
    expect(g.bluez.device(METER)).toMatchObject({ paired: true, trusted: true });

    // the meter is reset; the pairing tried from the page fails with the lost bond, explained in French
    meter.clearBonds();
    await c.go('/devices/pair', { form: { _csrf: csrf, address: METER } });
    const page = `/devices/${encodeURIComponent(METER)}`;
    const lost = await poll(c, page, (h) => h.includes('data-bond-lost'), 'the bond-lost notice');
    expect(lost).toContain('Cet appareil ne reconnaît plus la passerelle');
    expect(lost).toContain('Appairer de nouveau');
    const english = await (await c.go(`${page}?lang=en`)).text();
    expect(english).toContain('This device no longer recognises the gateway');

    expect((await c.go(`${page}/repair`, { form: { _csrf: csrf } })).status).toBe(303);
    await poll(c, '/devices', (h) => h.includes('data-question="passkey"'), 'the passkey asked again');
    const again = String(g.bluez.device(METER)?.displayedPasskey).padStart(6, '0');
    await c.go('/devices/pair/answer', { form: { _csrf: csrf, address: METER, passkey: again } });
    await poll(c, page, (h) => !h.includes('data-bond-lost'), 'the notice gone after pairing again');
    expect(journalRows()).toBe(3);
  });
});
