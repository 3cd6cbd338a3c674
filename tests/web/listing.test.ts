/**
 * Search, filters and paging of the long lists, over HTTP without JavaScript (plain GET forms and
 * links) and in Chromium with JavaScript off: 120 readings on the exchanges page, 55 to check, 60
 * patients and 60 devices; 50 rows a page, filters kept from page to page, in French and in English.
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../drivers/types.ts';
import type { OutboxState } from '../../gateway/contracts.ts';
import { ARTIFACTS, axe, launch, shot, signIn, type TestBrowser } from './browser.ts';
import { Client, PASSWORD, startGateway, type TestGateway } from './harness.ts';
import { pressure, weight } from './seed.ts';

let gw: TestGateway;
let c: Client;

/** Who owns what: p1 60 weights, p2 40 blood pressures, p3 20 weights; states in turn. */
const OWNERS = [
  { patient: 'p1', device: 'd-p1', n: 60, obs: () => weight(70.2) },
  { patient: 'p2', device: 'd-p2', n: 40, obs: () => pressure(121.4, 80.6) },
  { patient: 'p3', device: 'd-p3', n: 20, obs: () => weight(58.9) },
] as const;
const STATES: readonly OutboxState[] = ['pending', 'delivered', 'dead-letter', 'held'];
const expected: { patient: string; kind: string; state: OutboxState }[] = [];

beforeAll(async () => {
  gw = await startGateway();
  await gw.ops.addPatient({ id: 'p1', displayName: 'Marie Martin' });
  await gw.ops.addPatient({ id: 'p2', displayName: 'Jean Dupont' });
  await gw.ops.addPatient({ id: 'p3', displayName: 'Émile Zola' });
  for (let i = 4; i <= 60; i++) {
    await gw.ops.addPatient({ id: `p${i}`, displayName: `Patient ${String(i).padStart(3, '0')}` });
  }
  for (const o of OWNERS) {
    await gw.ops.addDevice({
      id: o.device,
      transport: 'mqtt',
      name: `Appareil de ${o.patient}`,
      patientId: o.patient,
    });
  }
  for (let i = 0; i < 57; i++) {
    await gw.ops.addDevice({
      id: `spare-${String(i).padStart(2, '0')}`,
      transport: 'mqtt',
      name: `Réserve ${i}`,
    });
  }
  let k = 0;
  for (const o of OWNERS) {
    for (let i = 0; i < o.n; i++, k++) {
      const id = `r-${k}`;
      const state = STATES[k % STATES.length]!;
      const observation: Observation = o.obs();
      gw.journal.append([
        state === 'held'
          ? {
              id,
              deviceId: o.device,
              patientId: o.patient,
              observation,
              state: 'held',
              reason: { code: 'MEDGW_ERR_MES_CONSENT', message: 'Consent not given, access refused.' },
            }
          : { id, deviceId: o.device, patientId: o.patient, observation, state: 'pending' },
      ]);
      if (state === 'delivered') {
        gw.journal.transition(id, 'pending', 'in-flight');
        gw.journal.transition(id, 'in-flight', 'delivered', { remoteId: `obs-${k}` });
      } else if (state === 'dead-letter') {
        gw.journal.transition(id, 'pending', 'dead-letter', {
          reason: { code: 'MEDGW_ERR_MES_REJECTED', message: 'refused' },
        });
      }
      expected.push({ patient: o.patient, kind: observation.kind, state });
    }
  }
  // 55 readings to check, from a device of nobody
  gw.journal.append(
    Array.from({ length: 55 }, (_, i) => ({
      id: `q-${i}`,
      deviceId: 'spare-00',
      observation: weight(80 + i / 10),
      state: 'quarantined' as const,
      reason: { code: 'MEDGW_ERR_DEVICE_UNASSIGNED', message: 'the device is not assigned to a patient' },
    })),
  );
  c = new Client(gw.url);
  await c.login();
}, 30_000);
afterAll(async () => {
  await gw?.close();
});

const page = async (path: string) => {
  const res = await c.go(path);
  expect(res.status, path).toBe(200);
  return res.text();
};
const readings = (html: string) => (html.match(/<tr data-reading-state="/g) ?? []).length;
const count = (where: (e: (typeof expected)[number]) => boolean) => expected.filter(where).length;

describe('the exchanges page: 120 readings', () => {
  it('shows 50 a page, held first, with links to the other pages that keep the filters', async () => {
    expect(expected).toHaveLength(120);
    const first = await page('/exchanges');
    expect(readings(first)).toBe(50);
    // the held readings (30) come first, all on page 1
    expect((first.match(/<tr data-reading-state="held"/g) ?? []).length).toBe(
      count((e) => e.state === 'held'),
    );
    expect(first).toContain('120 résultat(s)');
    expect(first).toContain('href="/exchanges?page=2"');
    expect(first).toContain('href="/exchanges?page=3"');
    expect(first).toContain('Page suivante');
    expect(readings(await page('/exchanges?page=2'))).toBe(50);
    expect(readings(await page('/exchanges?page=3'))).toBe(20);
    // beyond the last page: the last page; not a number: the first
    expect(readings(await page('/exchanges?page=99'))).toBe(20);
    expect(readings(await page('/exchanges?page=abc'))).toBe(50);
  });

  it('filters by patient, kind and state, and searches names without case or accents', async () => {
    const p1 = await page('/exchanges?patient=p1');
    expect(readings(p1)).toBe(50);
    expect(p1).toContain('60 résultat(s)');
    expect(p1).toContain('href="/exchanges?patient=p1&amp;page=2"');
    expect(p1).toMatch(/<option value="p1" selected>Marie Martin<\/option>/);
    expect(readings(await page('/exchanges?patient=p1&page=2'))).toBe(10);
    expect(readings(await page('/exchanges?kind=blood-pressure'))).toBe(
      count((e) => e.kind === 'blood-pressure'),
    );
    const held = await page('/exchanges?kind=body-weight&state=held');
    expect(readings(held)).toBe(count((e) => e.kind === 'body-weight' && e.state === 'held'));
    expect(held).not.toMatch(/data-reading-state="(?!held)/);
    expect(readings(await page('/exchanges?q=EMILE'))).toBe(20);
    expect(readings(await page('/exchanges?q=dupont&state=delivered'))).toBe(
      count((e) => e.patient === 'p2' && e.state === 'delivered'),
    );
    const none = await page('/exchanges?q=nobody-at-all');
    expect(readings(none)).toBe(0);
    expect(none).toContain('Rien ne correspond à ces filtres.');
    expect(none).toContain('Effacer les filtres');
  });

  it('says it in English too', async () => {
    const en = await page('/exchanges?patient=p1&lang=en');
    expect(en).toContain('60 result(s)');
    expect(en).toContain('Next page');
    expect(en).toContain('Clear the filters');
    expect(en).toMatch(/<form method="get" action="\/exchanges"[^>]*role="search"/);
    // the language switch keeps the filters
    expect(en).toContain('href="/exchanges?patient=p1&amp;lang=fr"');
    await page('/exchanges?lang=fr');
  });
});

describe('the other lists', () => {
  it('pages and searches the readings to check, the patients and the devices', async () => {
    const q1 = await page('/quarantine');
    expect((q1.match(/<tr data-reading="/g) ?? []).length).toBe(50);
    expect((((await page('/quarantine?page=2')).match(/<tr data-reading="/g) ?? []) as string[]).length).toBe(
      5,
    );
    // reading numbers go on across pages (the buttons' hidden names stay unique)
    expect(await page('/quarantine?page=2')).toContain('lecture 51');

    const patients = (html: string) => (html.match(/data-patient="/g) ?? []).length;
    expect(patients(await page('/patients'))).toBe(50);
    expect(patients(await page('/patients?page=2'))).toBe(10);
    const zola = await page('/patients?q=zola');
    expect(patients(zola)).toBe(1);
    expect(zola).toContain('Émile Zola');

    const devices = (html: string) => (html.match(/<tr data-device="/g) ?? []).length;
    expect(devices(await page('/devices'))).toBe(50);
    expect(devices(await page('/devices?page=2'))).toBe(10);
    expect(devices(await page('/devices?patient=p2'))).toBe(1);
    expect(devices(await page('/devices?q=r%C3%A9serve%201'))).toBe(11); // Réserve 1, 10–19
  });
});

describe('without JavaScript, in Chromium', () => {
  let tb: TestBrowser;
  beforeAll(async () => {
    tb = await launch({ javaScriptEnabled: false });
  });
  afterAll(async () => {
    await tb?.close();
  });

  it('filters with the form and moves to the next page with the link', async () => {
    const p = await tb.context.newPage();
    await signIn(p, gw.url, PASSWORD);
    await p.goto(`${gw.url}/exchanges`);
    await p.selectOption('#f-patient', 'p1');
    await p.fill('#f-q', 'marie');
    await Promise.all([
      p.waitForURL(/\/exchanges\?q=marie&patient=p1/),
      p.click('form[role="search"] button'),
    ]);
    expect(await p.locator('tr[data-reading-state]').count()).toBe(50);
    await Promise.all([p.waitForURL(/page=2/), p.click('a.fr-pagination__link--next')]);
    expect(new URL(p.url()).searchParams.get('patient')).toBe('p1');
    expect(await p.locator('tr[data-reading-state]').count()).toBe(10);
    expect(await p.inputValue('#f-q')).toBe('marie');
    // on a phone the form, the rows and the page links fit the width
    for (const width of [1280, 390]) {
      await p.setViewportSize({ width, height: 900 });
      await p.goto(`${gw.url}/exchanges?page=2`);
      const w = await p.evaluate(() => {
        const d = (
          globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } };
          }
        ).document.documentElement;
        return [d.scrollWidth, d.clientWidth] as const;
      });
      expect(w[0], `${width} px`).toBeLessThanOrEqual(w[1]);
      await p
        .locator('nav.fr-pagination')
        .screenshot({ path: join(ARTIFACTS, 'listing', `pager-${width}.png`) });
    }
    await p.close();
  }, 30_000);
});

describe('accessibility of the search form and the page links', () => {
  it('has no WCAG A/AA violation on a first, middle and last page, filtered or not', async () => {
    const tb = await launch();
    try {
      const p = await tb.context.newPage();
      await signIn(p, gw.url, PASSWORD);
      for (const path of [
        '/exchanges',
        '/exchanges?page=2',
        '/exchanges?page=3&lang=en',
        '/patients?page=2',
        '/devices?q=zzz',
      ]) {
        await p.goto(`${gw.url}${path}`);
        const v = await axe(p);
        await shot(p, 'listing', path.replace(/[/?&=]+/g, '-'));
        expect(
          v.map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`),
          path,
        ).toEqual([]);
      }
    } finally {
      await tb.close();
    }
  }, 60_000);
});
