/**
 * The pages without JavaScript: in Chromium with JavaScript disabled, a person signs in, confirms a
 * quarantined reading for a patient with one click, discards another, adds a patient and switches
 * to English — plain forms, POST then redirect, nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, shot, signIn, type TestBrowser } from './browser.ts';
import { PASSWORD, startGateway, type TestGateway } from './harness.ts';
import { weight } from './seed.ts';

let gw: TestGateway;
let tb: TestBrowser;

beforeAll(async () => {
  gw = await startGateway();
  await gw.ops.addPatient({ id: 'p1', displayName: 'Marie Martin' });
  await gw.ops.addDevice({ id: 'scale-1', transport: 'mqtt', name: 'Balance' });
  const q = (id: string, kg: number) => ({
    id,
    deviceId: 'scale-1',
    observation: weight(kg),
    state: 'quarantined' as const,
    reason: { code: 'MEDGW_ERR_DEVICE_UNASSIGNED', message: 'the device is not assigned to a patient' },
  });
  gw.journal.append([q('r-1', 71.3), q('r-2', 140.9)]);
  tb = await launch({ javaScriptEnabled: false });
}, 30_000);
afterAll(async () => {
  await tb?.close();
  await gw?.close();
});

describe('without JavaScript', () => {
  it('confirms and discards quarantined readings, adds a patient and changes language with plain forms', async () => {
    const page = await tb.context.newPage();
    const streams: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/events')) streams.push(r.url());
    });
    await signIn(page, gw.url, PASSWORD);
    await page.goto(`${gw.url}/quarantine`);
    await shot(page, 'nojs', '01-quarantine');
    // one click confirms r-1 for the pre-selected (only) patient
    await page.click('form[action="/quarantine/confirm"]:has(input[value="r-1"]) button');
    await page.waitForURL(`${gw.url}/quarantine`);
    expect(await page.textContent('.fr-alert--success')).toContain('Lecture confirmée');
    expect(gw.journal.get('r-1')).toMatchObject({ state: 'pending', patientId: 'p1' });
    // one click discards r-2; its values are erased
    await page.click('form[action="/quarantine/discard"]:has(input[value="r-2"]) button');
    await page.waitForURL(`${gw.url}/quarantine`);
    expect(gw.journal.get('r-2')).toMatchObject({ state: 'dead-letter', observation: null });
    expect(gw.journal.get('r-2')?.reason?.code).toBe('MEDGW_ERR_OPERATOR_DISCARDED');
    expect(await page.textContent('#quarantine')).toContain('Aucune lecture à vérifier');
    await shot(page, 'nojs', '02-quarantine-empty');
    const events = gw.journal.auditList({ limit: 100 }).map((e) => e.event);
    // The page calls the same admin operation as the CLI and the API: one audited move.
    expect(events).toEqual(expect.arrayContaining(['reading.assigned', 'reading.discarded']));

    await page.goto(`${gw.url}/patients`);
    await page.fill('#patient-id', 'jean');
    await page.fill('#patient-name', 'Jean Dupont');
    await page.click('form[method="post"][action="/patients"] button[type="submit"]');
    await page.waitForURL(`${gw.url}/patients`);
    expect(gw.registry.getPatient('jean')?.displayName).toBe('Jean Dupont');
    expect(await page.textContent('main')).toContain('Jean Dupont');

    await page.click('a[hreflang="en"]');
    expect(await page.textContent('h1')).toBe('Patients');
    await page.click('a.fr-nav__link[href="/exchanges"]');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('h1')).toBe('Exchanges with Mon espace santé');
    await shot(page, 'nojs', '03-exchanges-en');
    // no script ran: the live-update script never opened its event stream
    expect(streams).toEqual([]);
    await page.close();
  }, 60_000);
});
