/**
 * The whole journey in Chromium, over real sockets: a person signs in, adds a patient, pairs the
 * simulated scale from the devices page (real noble over the virtual radio), assigns it, links the
 * patient through the sandbox's login and consent pages (authorization code + PKCE), the scale
 * weighs, and the exchanges page shows the reading delivered. Then the patient withdraws consent on
 * the sandbox's patient page, the scale weighs again, and the exchanges page shows the new reading
 * held with what to do. A screenshot of each step goes to test-artifacts/web/journey/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, shot, signIn, type TestBrowser } from './browser.ts';
import { PASSWORD, SCALE_ADDRESS, SCALE_CODE, startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway;
let tb: TestBrowser;

beforeAll(async () => {
  gw = await startGateway({ national: true, ble: true });
  tb = await launch();
}, 30_000);
afterAll(async () => {
  await tb?.close();
  await gw?.close();
});

const G = 'journey';

async function waitForRow(page: Page, selector: string, timeoutMs = 15_000): Promise<void> {
  // the page updates itself through server-sent events; no reload here
  await page.waitForSelector(selector, { timeout: timeoutMs });
}

describe('a person pairs a scale, links a patient and follows the exchanges', () => {
  it('goes from sign-in to a delivered reading, then to a held one after consent is withdrawn', async () => {
    const context = tb.context;
    const page = await context.newPage();
    const base = gw.url;
    // no console error on the gateway's pages (their scripts and styles live with their
    // Content-Security-Policy, the DSFR scripts find the markup they expect, the icon is there)
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && m.location().url.startsWith(base)) blocked.push(m.text());
    });
    page.on('pageerror', (e) => {
      if (page.url().startsWith(base)) blocked.push(e.message);
    });

    // 1. sign in
    await page.goto(`${base}/status`);
    expect(page.url()).toContain('/login');
    await shot(page, G, '01-login');
    await signIn(page, base, PASSWORD);
    await expect(page.locator('h1').textContent()).resolves.toBe('État de la passerelle');
    await shot(page, G, '02-status');

    // 2. add the patient
    await page.click('a.fr-nav__link[href="/patients"]');
    await page.fill('#patient-id', 'marie');
    await page.fill('#patient-name', 'Marie Martin');
    await page.click('form[method="post"][action="/patients"] button[type="submit"]');
    await page.waitForSelector('[data-link-state="none"]');
    await shot(page, G, '03-patient-added');

    // 3. pair the scale seen nearby, with its signal strength and visible progress
    await page.click('a.fr-nav__link[href="/devices"]');
    await page.waitForSelector(`#nearby >> text=${SCALE_ADDRESS}`);
    await expect(page.locator('#nearby').textContent()).resolves.toMatch(/dBm/);
    await shot(page, G, '04-devices-nearby');
    // the scale is shared: the person registered as user 0 on it and types the consent code it shows
    const row = page.locator(`#nearby form:has(input[value="${SCALE_ADDRESS}"])`);
    await row.locator('input[name="userIndex"]').fill('0');
    await row.locator('input[name="consentCode"]').fill(String(SCALE_CODE));
    await row.locator('button').click();
    // once paired, the scale leaves "pairing in progress" and is listed once, under its name
    await waitForRow(page, `#registered tr[data-device="${SCALE_ADDRESS}"]`);
    await expect.poll(() => gw.ble!.get(SCALE_ADDRESS)?.state, { timeout: 15_000 }).toBe('synced');
    await page.waitForSelector('#pairing [data-pairing-state]', { state: 'detached' });
    await shot(page, G, '05-paired');
    const deviceId = SCALE_ADDRESS;
    expect(gw.registry.getDevice(deviceId)?.transport).toBe('ble');
    expect(gw.scale!.consentedUser).toBe(0);

    // 4. assign it to the patient, on the device's own page
    await page.click(`#registered tr[data-device="${SCALE_ADDRESS}"] a`);
    await page.waitForURL(`${base}/devices/${encodeURIComponent(SCALE_ADDRESS)}`);
    await page.selectOption('select[name="patientId"]', 'marie');
    await page.click('form[action$="/assign"] button');
    await page.waitForSelector('.fr-alert--success');
    expect(page.url()).toBe(`${base}/devices/${encodeURIComponent(SCALE_ADDRESS)}`);
    expect(gw.registry.getDevice(deviceId)?.patientId).toBe('marie');
    await shot(page, G, '06-assigned');

    // 5. link the patient through the sandbox's login and consent pages
    await page.click('a.fr-nav__link[href="/patients"]');
    await page.click('form[action="/patients/marie/link"] button');
    await page.waitForURL(/\/interaction\//);
    expect(page.url().startsWith(gw.sandbox!.url)).toBe(true);
    await shot(page, G, '07-sandbox-login');
    await page.fill('#login', 'marie.martin');
    await page.fill('#password', 'sandbox');
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[name="decision"][value="accept"]');
    await shot(page, G, '08-sandbox-consent');
    await page.click('button[name="decision"][value="accept"]');
    await page.waitForURL(`${base}/patients`);
    await page.waitForSelector('[data-link-state="linked"]');
    await shot(page, G, '09-linked');

    // 6. the scale weighs; the exchanges page shows the reading delivered
    await page.click('a.fr-nav__link[href="/exchanges"]');
    gw.scale!.measure({ kg: 72.4 });
    await waitForRow(page, '#sent tr[data-reading-state="delivered"][data-kind="body-weight"]');
    // the device and the taken-at time, and an explanation that does not repeat the time columns
    const sentRow = page.locator('#sent tr[data-reading-state="delivered"]').first();
    await expect(sentRow.locator('td').nth(4).textContent()).resolves.toBe('Sim Scale BF-70');
    await expect(sentRow.locator('td[data-time="taken"]').textContent()).resolves.toMatch(
      /\d{2}:\d{2}:\d{2}/,
    );
    await expect(sentRow.locator('td').nth(7).textContent()).resolves.toBe('Remise à Mon espace santé.');
    await shot(page, G, '10-delivered');
    const arrived = gw.sandbox!.observations();
    expect(arrived).toHaveLength(1);
    expect(arrived[0]).toMatchObject({ idPe: 'PE-SBX-0001', kind: 'weight' });

    // 7. the patient withdraws consent on the sandbox's patient page
    const patientPage = await context.newPage();
    await patientPage.goto(`${gw.sandbox!.url}/patient`);
    await patientPage.fill('#login', 'marie.martin');
    await patientPage.fill('#password', 'sandbox');
    await patientPage.click('form[action="/patient/login"] button');
    await patientPage.waitForSelector('form[action="/patient/revoke"] input[name="kind"][value="all"]', {
      state: 'attached',
    });
    await shot(patientPage, G, '11-sandbox-patient-page');
    await patientPage.click('form[action="/patient/revoke"]:has(input[name="kind"][value="all"]) button');
    await patientPage.waitForLoadState();
    await shot(patientPage, G, '12-consent-withdrawn');
    await patientPage.close();

    // 8. the scale weighs again: the new reading is held, in plain words, with what to do
    gw.scale!.measure({ kg: 72.9 });
    await page.bringToFront();
    await waitForRow(page, '#held tr[data-reading-state="held"][data-kind="body-weight"]');
    const held = await page.locator('#held tr[data-reading-state="held"]').first().textContent();
    expect(held).toContain('retiré son accord');
    await shot(page, G, '13-held');
    expect(gw.sandbox!.observations()).toHaveLength(1);
    await page.click('a.fr-nav__link[href="/patients"]');
    await page.waitForSelector('[data-link-state="consent-withdrawn"]');
    await shot(page, G, '14-patient-consent-withdrawn');
    expect(blocked).toEqual([]);
    await page.close();
  }, 90_000);
});
