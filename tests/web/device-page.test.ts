/**
 * A device's own page, over HTTP without JavaScript: what the gateway knows of it and its actions;
 * rename and assign come back to it, forget goes back to the list, an unknown device is a 404 that
 * says so with its code. The list links each device to its page and holds no form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway;
let c: Client;
let csrf: string;

beforeAll(async () => {
  gw = await startGateway();
  await gw.ops.addPatient({ id: 'p1', displayName: 'Marie Martin' });
  await gw.ops.addDevice({ id: 'cuff:1', transport: 'mqtt', name: 'Tensiomètre' });
  c = new Client(gw.url);
  csrf = await c.login();
});
afterAll(async () => {
  await gw?.close();
});

describe("a device's own page", () => {
  it('is linked from the list, which holds no action form', async () => {
    const list = await (await c.go('/devices')).text();
    const row = /<tr data-device="cuff:1">.*?<\/tr>/s.exec(list)?.[0] ?? '';
    expect(row).toContain('href="/devices/cuff%3A1"');
    expect(row).not.toContain('<form');
  });

  it('renames and assigns, coming back to the page, and forgets, going back to the list', async () => {
    const page = await (await c.go('/devices/cuff%3A1')).text();
    expect(page).toContain('<h1>Tensiomètre</h1>');
    expect(page).toContain('action="/devices/cuff%3A1/rename"');
    const renamed = await c.go('/devices/cuff%3A1/rename', {
      form: { _csrf: csrf, name: 'Tensiomètre salon' },
    });
    expect(renamed.status).toBe(303);
    expect(renamed.headers.get('location')).toBe('/devices/cuff%3A1');
    expect(await (await c.go('/devices/cuff%3A1')).text()).toContain('Appareil renommé.');
    const assigned = await c.go('/devices/cuff%3A1/assign', { form: { _csrf: csrf, patientId: 'p1' } });
    expect(assigned.headers.get('location')).toBe('/devices/cuff%3A1');
    expect(gw.registry.getDevice('cuff:1')).toMatchObject({ name: 'Tensiomètre salon', patientId: 'p1' });
    // a refused action is said on the same page
    await c.go('/devices/cuff%3A1/assign', { form: { _csrf: csrf, patientId: 'nobody' } });
    expect(await (await c.go('/devices/cuff%3A1')).text()).toMatch(
      /fr-alert--error[\s\S]*MEDGW_ERR_REGISTRY/,
    );
    const forgotten = await c.go('/devices/cuff%3A1/forget', { form: { _csrf: csrf } });
    expect(forgotten.headers.get('location')).toBe('/devices');
    expect(gw.registry.getDevice('cuff:1')).toBeUndefined();
  });

  it('answers 404 with the code for a device the gateway does not know', async () => {
    const res = await c.go('/devices/nope');
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('Cet appareil n’est pas enregistré sur la passerelle.');
    expect(html).toContain('MEDGW_ERR_REGISTRY_UNKNOWN');
  });
});
