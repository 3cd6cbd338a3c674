/**
 * Accessibility: axe-core (WCAG 2.0/2.1 A and AA rules) on every page, in French and in English, at
 * 1280 px and on a phone (390 px), a device's own page and a filtered list included, with
 * content in every section (nearby device, failed pairing, readings in each state), and keyboard use:
 * the skip link is the first stop and leads to the main content. Screenshots in test-artifacts/web/a11y/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, axe, launch, shot, signIn, type TestBrowser } from './browser.ts';
import { Client, PASSWORD, SCALE_ADDRESS, SCALE_CODE, startGateway, type TestGateway } from './harness.ts';
import { seedReadings } from './seed.ts';

let gw: TestGateway;
let tb: TestBrowser;

beforeAll(async () => {
  gw = await startGateway({ national: true, ble: true });
  await gw.ops.addPatient({ id: 'p1', displayName: 'Marie Martin' });
  await gw.ops.addPatient({ id: 'p2', displayName: 'Jean Dupont' });
  await gw.ops.addDevice({
    id: 'mqtt-cuff-1',
    transport: 'mqtt',
    name: 'Tensiomètre salon',
    patientId: 'p1',
  });
  seedReadings(gw.journal, 'mqtt-cuff-1', 'p1');
  // a paired BLE scale too (sync and clock state on the devices page), once the central has seen it
  for (let i = 0; i < 200 && !gw.ble!.get(SCALE_ADDRESS); i++) await new Promise((r) => setTimeout(r, 25));
  await gw.ble!.pair(SCALE_ADDRESS, { patientId: 'p2', udsUsers: [{ index: 0, consentCode: SCALE_CODE }] });
  for (let i = 0; i < 200 && gw.ble!.get(SCALE_ADDRESS)?.state !== 'synced'; i++)
    await new Promise((r) => setTimeout(r, 25));
  // a device code waiting for Jean Dupont (the link-with-a-code page, with its code)
  const admin = new Client(gw.url);
  await admin.go('/patients/p2/device-code', { form: { _csrf: await admin.login() } });
  tb = await launch();
}, 30_000);
afterAll(async () => {
  await tb?.close();
  await gw?.close();
});

const PAGES = ['/status', '/devices', '/patients', '/quarantine', '/exchanges', '/overview'];
/** The menu's pages, a device's own page, and a filtered list (its search form, a result count). */
const CHECKED = [
  ...PAGES,
  '/devices/mqtt-cuff-1',
  `/devices/${encodeURIComponent(SCALE_ADDRESS)}`,
  '/exchanges?q=marie',
  '/patients/p2/device-code',
];

function describeViolations(vs: readonly AxeViolation[]): string {
  return vs
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')} — ${n.failureSummary ?? ''}`).join('\n')}`,
    )
    .join('\n');
}

describe('accessibility of every page', () => {
  it('the sign-in page has no WCAG A/AA violation', async () => {
    const page = await tb.context.newPage();
    await page.goto(`${gw.url}/login`);
    const v = await axe(page);
    expect(v, describeViolations(v)).toEqual([]);
    await page.close();
  });

  for (const width of [1280, 390]) {
    for (const lang of ['fr', 'en'] as const) {
      it(`every page in ${lang} at ${width} px has no WCAG A/AA violation`, async () => {
        const page = await tb.context.newPage();
        await page.setViewportSize({ width, height: 900 });
        await signIn(page, gw.url, PASSWORD);
        for (const path of CHECKED) {
          const res = await page.goto(`${gw.url}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
          expect(res?.status(), path).toBe(200);
          expect(await page.getAttribute('html', 'lang')).toBe(lang);
          const v = await axe(page);
          expect(v, `${path} ${lang} ${width} px\n${describeViolations(v)}`).toEqual([]);
          await shot(page, 'a11y', `${width}-${lang}${path.replace(/[/:%?=]+/g, '-')}`);
        }
        await page.close();
      }, 90_000);
    }
  }

  it('the refusal page of a form without CSRF token has no violation either', async () => {
    const page = await tb.context.newPage();
    await signIn(page, gw.url, PASSWORD);
    // a forged form on the gateway's origin without the token
    await page.setContent(
      `<html lang="en"><body><form method="post" action="${gw.url}/patients"><input name="id" value="x"><button>go</button></form></body></html>`,
    );
    await Promise.all([page.waitForURL(`${gw.url}/patients`), page.click('button')]);
    expect(await page.textContent('main')).toContain('MEDGW_ERR_WEB_CSRF');
    const v = await axe(page);
    expect(v, describeViolations(v)).toEqual([]);
    await page.close();
  });
});

describe('keyboard use', () => {
  type Doc = { document: { activeElement: { id: string; getAttribute(n: string): string | null } | null } };
  const focused = (page: import('playwright-core').Page) =>
    page.evaluate(() => {
      const a = (globalThis as unknown as Doc).document.activeElement;
      return { id: a?.id ?? '', href: a?.getAttribute('href') ?? '' };
    });

  it('the first Tab reaches the skip link, which moves focus to the main content', async () => {
    const page = await tb.context.newPage();
    await signIn(page, gw.url, PASSWORD);
    await page.goto(`${gw.url}/devices`);
    await page.keyboard.press('Tab');
    expect((await focused(page)).href).toBe('#content');
    await page.keyboard.press('Enter');
    expect((await focused(page)).id).toBe('content');
    await page.close();
  });

  it('every entry of the menu is reached with Tab, in order', async () => {
    const page = await tb.context.newPage();
    await signIn(page, gw.url, PASSWORD);
    await page.goto(`${gw.url}/devices`);
    const order: string[] = [];
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      const { href } = await focused(page);
      if (PAGES.includes(href)) order.push(href);
    }
    // the service title links to /status too, before the menu: first visits, in order
    expect([...new Set(order)]).toEqual(PAGES);
    await page.close();
  });
});
