/**
 * The sandbox's patient page in a real browser: with measurements and exchanges listed (long device keys,
 * OIDs and ids), it fits a 1280 px screen and reflows on a 390 px phone (no sideways scroll), with no
 * console error.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import { launch, shot, type TestBrowser } from '../web/browser.ts';
import { bundle, device, observation, pairByDeviceFlow, patientOf, postBundle } from './helpers.ts';

let s: Sandbox;
let tb: TestBrowser;

beforeAll(async () => {
  s = await createSandbox({ port: 0 });
  const t = await pairByDeviceFlow(s, { login: 'marie.martin' });
  const p = patientOf(t, s);
  const scale = device('FE-ED-AB-AA-DE-AD-77-C5');
  const cuff = device('00-09-1F-FF-FE-80-12-34', '528391');
  for (const [kind, dev] of [
    ['weight', scale],
    ['bp', cuff],
    ['weight', scale],
  ] as const) {
    expect((await postBundle(s, t, bundle(observation(p, kind, dev), dev))).status).toBe(200);
  }
  tb = await launch();
}, 60_000);

afterAll(async () => {
  await tb?.close();
  await s?.close();
});

/** The document's width beside the viewport's, and the cells that stick out of their table. */
async function widths(page: Page): Promise<{ scroll: number; client: number; rows: number }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      document: {
        documentElement: { scrollWidth: number; clientWidth: number };
        querySelectorAll(s: string): { length: number };
      };
    };
    const d = g.document.documentElement;
    return {
      scroll: d.scrollWidth,
      client: d.clientWidth,
      rows: g.document.querySelectorAll('tbody tr').length,
    };
  });
}

describe('the patient page fits the screen', () => {
  for (const width of [1280, 390] as const) {
    it(`at ${width} px`, async () => {
      const page = await tb.context.newPage();
      await page.setViewportSize({ width, height: 900 });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${s.url}/patient`);
      if (await page.locator('#login').count()) {
        await page.fill('#login', 'marie.martin');
        await page.fill('#password', 'sandbox');
        await Promise.all([page.waitForURL(`${s.url}/patient`), page.click('button[type=submit]')]);
      }
      const w = await widths(page);
      // Three measurements and their exchanges are listed.
      expect(w.rows).toBeGreaterThanOrEqual(6);
      expect(w.scroll, `page ${w.scroll} px wide in a ${w.client} px window`).toBeLessThanOrEqual(w.client);
      expect(errors).toEqual([]);
      await shot(page, 'sandbox', `${width}-patient`);
      await page.close();
    }, 30_000);
  }
});
