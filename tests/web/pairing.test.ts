/**
 * Pairing from the devices page over HTTP with the gateway's BLE central: a wrong consent code for
 * the scale's household user ends in a visible failure in plain words, counted in /metrics by reason;
 * bad form input is refused with a message on the page.
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

async function poll(
  c: Client,
  path: string,
  until: (html: string) => boolean,
  what: string,
): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const html = await (await c.go(path)).text();
    if (until(html)) return html;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('pairing from the devices page', () => {
  it('refuses a half-filled or malformed consent, saying which field', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    await poll(c, '/devices', (h) => h.includes(SCALE_ADDRESS), 'the scale nearby');
    await c.go('/devices/pair', { form: { _csrf: csrf, address: SCALE_ADDRESS, userIndex: '0' } });
    expect(await (await c.go('/devices')).text()).toContain('give both the user number and the consent code');
    await c.go('/devices/pair', {
      form: { _csrf: csrf, address: SCALE_ADDRESS, userIndex: '0', consentCode: '12345' },
    });
    expect(await (await c.go('/devices')).text()).toContain('consent code: 0 to 9999');
    expect(gw.registry.getDevice(SCALE_ADDRESS)).toBeUndefined();
  });

  it('shows a refused consent code as a failure in plain words and counts it by reason', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    const wrong = String((SCALE_CODE + 1) % 10000);
    const res = await c.go('/devices/pair', {
      form: { _csrf: csrf, address: SCALE_ADDRESS, userIndex: '0', consentCode: wrong },
    });
    expect(res.status).toBe(303);
    const html = await poll(
      c,
      '/devices',
      (h) => h.includes('data-pairing-state="failed"'),
      'the failed pairing',
    );
    expect(html).toContain('La balance a refusé le code d’accord');
    // not paired: listed in progress under the name the devices table gives it
    const listed = new RegExp(`data-pairing="${SCALE_ADDRESS}"><strong>([^<]+)</strong>`).exec(html)?.[1];
    const row = new RegExp(`<tr data-device="${SCALE_ADDRESS}">.*?<a href="[^"]+">([^<]+)</a>`, 's').exec(
      html,
    )?.[1];
    expect(listed).toBeDefined();
    expect(listed).toBe(row);
    // renamed on its page: the progress line follows the registry name
    expect(
      (
        await c.go(`/devices/${encodeURIComponent(SCALE_ADDRESS)}/rename`, {
          form: { _csrf: csrf, name: 'Balance de l’entrée' },
        })
      ).status,
    ).toBe(303);
    const renamed = await (await c.go('/devices')).text();
    expect(renamed).toMatch(
      new RegExp(`data-pairing="${SCALE_ADDRESS}"><strong>Balance de l’entrée</strong>`),
    );
    const metrics = await (await c.go('/metrics', { headers: { accept: 'text/plain' } })).text();
    expect(metrics).toMatch(/medgw_ble_failures_total\{reason="MEDGW_ERR_BLE_UDS_CONSENT"\} [1-9]/);
    expect(gw.scale!.consentedUser).toBeUndefined();
  });
});
