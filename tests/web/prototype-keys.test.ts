/**
 * Outside-chosen keys that are also names of Object.prototype (`__proto__`, `constructor`,
 * `prototype`, `toString`, `hasOwnProperty`) as form fields and route parameters of the pages and
 * of the JSON admin API, over real HTTP: each is a plain key or a coded refusal, never a 500, never a
 * match with something that does not exist, and Object.prototype stays as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startGateway, type TestGateway } from './harness.ts';

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'] as const;

let gw: TestGateway;
let c: Client;
let csrf: string;

beforeAll(async () => {
  // with the national side, so the link and consent routes reach the token store's lookups
  gw = await startGateway({ national: true });
  await gw.ops.addPatient({ id: 'p1', displayName: 'Alice Test' });
  await gw.ops.addDevice({ id: 'scale-1', transport: 'ble', patientId: 'p1' });
  c = new Client(gw.url);
  csrf = await c.login();
});
afterAll(async () => {
  await gw?.close();
});

function prototypeIntact(): void {
  expect(Object.isFrozen(Object.prototype)).toBe(false);
  expect(Object.isExtensible(Object.prototype)).toBe(true);
  const probe: Record<string, unknown> = {};
  expect(probe.displayName).toBeUndefined();
  expect(probe.patientId).toBeUndefined();
  expect(probe.id).toBeUndefined();
  expect(typeof probe.toString).toBe('function');
}

/** The flash message the page shows after a form post (success or coded error). */
async function flashAfter(res: Response): Promise<string> {
  expect(res.status, await res.clone().text()).toBe(303);
  const page = await (await c.go(res.headers.get('location') ?? '/status')).text();
  return /class="fr-alert[^"]*"[^>]*>([\s\S]*?)<\/div>/.exec(page)?.[1] ?? '';
}

describe('prototype names from outside', () => {
  it.each(KEYS)('%s as a form field name changes nothing beyond the form', async (key) => {
    const res = await c.go('/patients', {
      form: { _csrf: csrf, id: `p-${key.length}`, displayName: 'Bob Test', [key]: 'x' },
    });
    expect(res.status).toBe(303);
    expect(gw.registry.getPatient(`p-${key.length}`)?.displayName).toBe('Bob Test');
    prototypeIntact();
  });

  it.each(KEYS)('%s as a device id in every device route is unknown, with a code', async (key) => {
    const id = encodeURIComponent(key);
    for (const [path, form] of [
      [`/devices/${id}/rename`, { name: 'X' }],
      [`/devices/${id}/assign`, { patientId: 'p1' }],
      [`/devices/${id}/forget`, {}],
    ] as const) {
      const flash = await flashAfter(await c.go(path, { form: { _csrf: csrf, ...form } }));
      expect(flash, path).toMatch(/MEDGW_ERR_(REGISTRY_UNKNOWN|REGISTRY_INVALID|WEB_FORM)/);
    }
    const api = await fetch(`${gw.url}/api/v1/devices/${id}`, {
      headers: { authorization: `Bearer ${gw.adminToken}` },
    });
    expect([400, 404]).toContain(api.status);
    expect(((await api.json()) as { error: { code: string } }).error.code).toMatch(/^MEDGW_ERR_/);
    expect(gw.registry.getDevice(key)).toBeUndefined();
    prototypeIntact();
  });

  it.each(KEYS)('%s as a patient id in every patient route is unknown, with a code', async (key) => {
    const id = encodeURIComponent(key);
    for (const [path, form, code] of [
      [`/patients/${id}/link`, {}, 'MEDGW_ERR_REGISTRY_UNKNOWN'],
      [`/patients/${id}/unlink`, {}, 'MEDGW_ERR_NOT_LINKED'],
      [`/patients/${id}/consents`, { kind: 'weight' }, 'MEDGW_ERR_NOT_LINKED'],
      [`/patients/${id}/remove`, {}, 'MEDGW_ERR_REGISTRY_UNKNOWN'],
    ] as const) {
      const flash = await flashAfter(await c.go(path, { form: { _csrf: csrf, ...form } }));
      expect(flash, path).toContain(`(${code})`);
    }
    // a device cannot be assigned to a patient that does not exist under that name
    const assign = await c.go('/devices/scale-1/assign', { form: { _csrf: csrf, patientId: key } });
    expect(await flashAfter(assign)).toMatch(/MEDGW_ERR_(REGISTRY_UNKNOWN|REGISTRY_INVALID)/);
    expect(gw.registry.getDevice('scale-1')?.patientId).toBe('p1');
    expect(gw.registry.getPatient(key)).toBeUndefined();
    prototypeIntact();
  });

  it.each(KEYS)(
    '%s as a token id to revoke and a reading id to retry is refused with a code',
    async (key) => {
      const id = encodeURIComponent(key);
      expect(await flashAfter(await c.go(`/tokens/${id}/revoke`, { form: { _csrf: csrf } }))).toMatch(
        /MEDGW_ERR_[A-Z_]+/,
      );
      expect(await flashAfter(await c.go('/exchanges/retry', { form: { _csrf: csrf, id: key } }))).toMatch(
        /MEDGW_ERR_[A-Z_]+/,
      );
      prototypeIntact();
    },
  );

  it('the pages still answer after all of it', async () => {
    for (const path of ['/status', '/devices', '/patients', '/exchanges', '/overview']) {
      expect((await c.go(path)).status, path).toBe(200);
    }
    const list = await fetch(`${gw.url}/api/v1/devices`, {
      headers: { authorization: `Bearer ${gw.adminToken}` },
    });
    expect(list.status).toBe(200);
  });
});
