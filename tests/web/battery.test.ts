/**
 * Battery level over the virtual radio: the simulated scale exposes the Battery Service (0x180F,
 * Battery Level 0x2A19, BAS 1.0); the gateway's BLE central (real noble) reads it on connect when
 * pairing from the devices page, and the page shows it instead of "unknown".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, SCALE_ADDRESS, SCALE_CODE, startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ ble: true });
});
afterAll(async () => {
  await gw?.close();
});

async function poll(c: Client, path: string, until: (html: string) => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    const html = await (await c.go(path)).text();
    if (until(html)) return html;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The devices-table row of the scale. */
function rowOf(html: string, id: string): string {
  const rows = html.split('<tr').filter((r) => r.includes(`data-device="${id}"`));
  return rows[0] ?? '';
}

describe('battery level on the devices page', () => {
  it('reads Battery Level on connect and shows the percent the scale reports', async () => {
    gw.scale!.batteryPercent = 57;
    const c = new Client(gw.url);
    const csrf = await c.login();
    await poll(c, '/devices', (h) => h.includes(SCALE_ADDRESS), 'the scale nearby');
    const res = await c.go('/devices/pair', {
      form: { _csrf: csrf, address: SCALE_ADDRESS, userIndex: '0', consentCode: String(SCALE_CODE) },
    });
    expect(res.status).toBe(303);
    const html = await poll(
      c,
      '/devices',
      (h) => rowOf(h, SCALE_ADDRESS).includes('57 %'),
      'the battery level in the scale row',
    );
    expect(rowOf(html, SCALE_ADDRESS)).not.toMatch(/>inconnu[e]?</i);
    expect(gw.ble!.get(SCALE_ADDRESS)?.batteryPercent).toBe(57);
  });
});
