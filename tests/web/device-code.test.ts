/**
 * Linking a patient from the patients page with a device code (RFC 8628), over HTTP against the
 * sandbox: the page shows the code and how long it stays valid; "new code" gives another at once and
 * abandons the first (no longer polled: approving it links nothing); the new code, approved by the
 * scripted patient, links the patient and the page says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveDeviceCode } from '../../simulators/sandbox/browser.ts';
import { Client, startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ national: true });
  await gw.ops.addPatient({ id: 'jean', displayName: 'Jean Dupont' });
}, 30_000);
afterAll(async () => {
  await gw?.close();
});

const codeOf = (html: string) => /data-user-code="([^"]+)"/.exec(html)?.[1];

describe('linking a patient with a device code from the pages', () => {
  it('shows the code with its validity, gives a new code at once, and links with the new one', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    expect(await (await c.go('/patients')).text()).toContain('action="/patients/jean/device-code"');

    const asked = await c.go('/patients/jean/device-code', { form: { _csrf: csrf } });
    expect(asked.status).toBe(303);
    expect(asked.headers.get('location')).toBe('/patients/jean/device-code');
    const first = await (await c.go('/patients/jean/device-code')).text();
    const firstCode = codeOf(first);
    expect(firstCode).toMatch(/^[A-Z]{4}-?[A-Z]{4}$/);
    expect(first).toContain(`${gw.sandbox!.issuer}/device`);
    // the sandbox grants 600 s (simulators/sandbox/index.ts ttl.deviceCode)
    const remaining = Number(/data-remaining-ms="(\d+)"/.exec(first)?.[1]);
    expect(remaining).toBeGreaterThan(590_000);
    expect(remaining).toBeLessThanOrEqual(600_000);
    expect(first).toMatch(/Code valable encore (9:5\d|10:00)/);
    expect(first).toContain('data-device-code-state="waiting"');

    // a new code at once; the first is abandoned
    await c.go('/patients/jean/device-code', { form: { _csrf: await c.csrf('/patients/jean/device-code') } });
    const second = await (await c.go('/patients/jean/device-code')).text();
    const secondCode = codeOf(second);
    expect(secondCode).toBeTruthy();
    expect(secondCode).not.toBe(firstCode);

    // approving the abandoned code at the sandbox links nothing: nobody polls it any more (a live
    // flow polls every 5 s, the RFC 8628 §3.2 default when the provider names no interval)
    await approveDeviceCode(gw.sandbox!.url, firstCode ?? '', { login: 'jean.dupont', password: 'sandbox' });
    await new Promise((r) => setTimeout(r, 6000));
    expect(gw.bridge!.store.get('jean')).toBeUndefined();

    await approveDeviceCode(gw.sandbox!.url, secondCode ?? '', { login: 'jean.dupont', password: 'sandbox' });
    let page = '';
    for (let i = 0; i < 100 && !page.includes('data-device-code-state="linked"'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      page = await (await c.go('/patients/jean/device-code')).text();
    }
    expect(page).toContain('data-device-code-state="linked"');
    expect(page).toContain('Lié à Mon espace santé.');
    expect(gw.bridge!.store.get('jean')?.status).toBe('linked');
    expect(await (await c.go('/patients')).text()).toContain('data-link-state="linked"');
  }, 60_000);

  it('refuses the form without its anti-forgery token', async () => {
    const c = new Client(gw.url);
    await c.login();
    const res = await c.go('/patients/jean/device-code', { form: { _csrf: 'forged' } });
    expect(res.status).toBe(403);
  });
});
