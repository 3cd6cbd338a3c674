/**
 * Every page in Chromium at 1280 px and on a phone (390 px), in French and in English: no horizontal
 * scroll (neither the page nor any table in it), no console error and no JavaScript error, the icon
 * served; and what the French pages say: adapter state, values with a decimal comma and readable units.
 * Screenshots in test-artifacts/web/layout/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, overflow, shot, signIn, type TestBrowser, watch } from './browser.ts';
import { PASSWORD, SCALE_ADDRESS, SCALE_CODE, startGateway, type TestGateway } from './harness.ts';
import { pressure, seedReadings, weight } from './seed.ts';

let gw: TestGateway;
let tb: TestBrowser;

beforeAll(async () => {
  gw = await startGateway({ national: true, ble: true });
  await gw.ops.addPatient({ id: 'p1', displayName: 'Marie-Christine Martin-Delacroix' });
  await gw.ops.addPatient({ id: 'p2', displayName: 'Jean Dupont' });
  await gw.ops.addDevice({
    id: 'mqtt-cuff-salon-0001-a',
    transport: 'mqtt',
    name: 'Tensiomètre du salon, côté fenêtre',
    patientId: 'p1',
  });
  seedReadings(gw.journal, 'mqtt-cuff-salon-0001-a', 'p1');
  gw.journal.append([
    {
      id: 'r-pressure',
      deviceId: 'mqtt-cuff-salon-0001-a',
      observation: pressure(118.9, 18.9),
      state: 'quarantined',
      reason: { code: 'MEDGW_ERR_IMPLAUSIBLE_VALUE', message: 'diastolic 18.9 mm[Hg] below 20' },
    },
    {
      id: 'r-absent',
      deviceId: 'mqtt-cuff-salon-0001-a',
      observation: { ...weight(0), value: undefined, dataAbsentReason: 'positive-infinity' },
      state: 'quarantined',
      reason: { code: 'MEDGW_ERR_VALUE_ABSENT', message: 'the device sent no weight value' },
    },
  ]);
  for (let i = 0; i < 200 && !gw.ble!.get(SCALE_ADDRESS); i++) await new Promise((r) => setTimeout(r, 25));
  await gw.ble!.pair(SCALE_ADDRESS, { patientId: 'p2', udsUsers: [{ index: 0, consentCode: SCALE_CODE }] });
  for (let i = 0; i < 200 && gw.ble!.get(SCALE_ADDRESS)?.state !== 'synced'; i++)
    await new Promise((r) => setTimeout(r, 25));
  tb = await launch();
}, 30_000);
afterAll(async () => {
  await tb?.close();
  await gw?.close();
});

const PAGES = [
  '/status',
  '/devices',
  `/devices/${encodeURIComponent(SCALE_ADDRESS)}`,
  '/devices/mqtt-cuff-salon-0001-a',
  '/patients',
  '/quarantine',
  '/exchanges',
  '/overview',
];
const WIDTHS = [1280, 390] as const;

async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  // the DSFR module script and live.js run after load: give them their turn before reading errors
  await page.waitForTimeout(150);
}

describe('every page fits the screen and has no console error', () => {
  for (const width of WIDTHS) {
    it(`the sign-in page at ${width} px`, async () => {
      const page = await tb.context.newPage();
      await page.setViewportSize({ width, height: 900 });
      const errors = watch(page);
      await page.goto(`${gw.url}/login?lang=fr`);
      await settle(page);
      const o = await overflow(page);
      expect(o.page.scrollWidth).toBeLessThanOrEqual(o.page.clientWidth);
      expect(o.inner).toEqual([]);
      expect(errors).toEqual([]);
      await shot(page, 'layout', `${width}-login`);
      await page.close();
    });

    for (const lang of ['fr', 'en'] as const) {
      it(`the signed-in pages in ${lang} at ${width} px`, async () => {
        const page = await tb.context.newPage();
        await page.setViewportSize({ width, height: 900 });
        await signIn(page, gw.url, PASSWORD);
        const errors = watch(page);
        for (const path of PAGES) {
          const res = await page.goto(`${gw.url}${path}?lang=${lang}`);
          expect(res?.status(), path).toBe(200);
          await settle(page);
          const o = await overflow(page);
          expect(o.page.scrollWidth, `${path} at ${width} px`).toBeLessThanOrEqual(o.page.clientWidth);
          expect(o.inner, `${path} at ${width} px`).toEqual([]);
          expect(errors, path).toEqual([]);
          await shot(page, 'layout', `${width}-${lang}${path.replace(/[/:%]+/g, '-')}`);
        }
        await page.close();
      }, 60_000);
    }
  }

  it('serves its icon as /favicon.ico (ICO) and /favicon.svg', async () => {
    const ico = await fetch(`${gw.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/x-icon');
    const bytes = Buffer.from(await ico.arrayBuffer());
    // ICONDIR: reserved 0, type 1 (icon), one image of 32×32 at 32 bits per pixel
    expect([bytes.readUInt16LE(0), bytes.readUInt16LE(2), bytes.readUInt16LE(4)]).toEqual([0, 1, 1]);
    expect([bytes[6], bytes[7], bytes.readUInt16LE(12)]).toEqual([32, 32, 32]);
    expect(bytes.readUInt32LE(14) + bytes.readUInt32LE(18)).toBe(bytes.length);
    const svg = await fetch(`${gw.url}/favicon.svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await svg.text()).toMatch(/^<svg /);
  });
});

describe('the pages speak the language of the page', () => {
  it('says the Bluetooth state and the values in French, and in English', async () => {
    const page = await tb.context.newPage();
    await signIn(page, gw.url, PASSWORD);
    await page.goto(`${gw.url}/status?lang=fr`);
    const status = await page.locator('#status-table').textContent();
    expect(status).toContain('allumé');
    expect(status).not.toContain('poweredOn');
    await page.goto(`${gw.url}/quarantine?lang=fr`);
    const fr = await page.locator('#quarantine').textContent();
    expect(fr).toContain('118,9 mmHg / 18,9 mmHg');
    expect(fr).toContain('81,2 kg');
    expect(fr).not.toContain('mm[Hg]');
    expect(fr).toContain('au-dessus de ce que l’appareil mesure');
    expect(fr).not.toContain('positive-infinity');
    await page.goto(`${gw.url}/status?lang=en`);
    expect(await page.locator('#status-table').textContent()).toContain('on');
    await page.goto(`${gw.url}/quarantine?lang=en`);
    const en = await page.locator('#quarantine').textContent();
    expect(en).toContain('118.9 mmHg / 18.9 mmHg');
    expect(en).toContain('81.2 kg');
    expect(en).toContain('above what the device measures');
    await page.close();
  });
});

describe('the sandbox speaks French on its pages', () => {
  it('asks for the device code in French', async () => {
    const res = await fetch(`${gw.sandbox!.url}/oidc/device`);
    const html = await res.text();
    expect(html).toContain('name="user_code"');
    expect(html).toContain('placeholder="Code affiché par votre passerelle"');
    expect(html).not.toContain('Enter code');
  });
});
