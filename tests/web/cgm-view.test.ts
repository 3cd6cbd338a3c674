/**
 * A CGM's sensor values on its device page, in a whole gateway (harness.ts: SQLite journal, real HTTP,
 * the real pipeline; days in Europe/Paris): a simulated sensor session goes through the pipeline and is
 * kept local; the page shows one civil day of it (the latest by default, any kept day by `?day=`, prev /
 * next links and a GET selector, no JavaScript needed), a table with one row per valid value of that day
 * (time, value in the page's language, trend), and the time in the consensus ranges (Battelino et al.,
 * Diabetes Care 2019) equal to the counts computed here from the simulator's own curve. A value the sensor
 * marked invalid is neither plotted nor counted. Once a day's values are purged, the day is no longer
 * offered. In Chromium at 1280 px and 390 px, in French and English: no horizontal scroll, no console
 * error, no WCAG A/AA violation (axe-core). Screenshots in test-artifacts/web/cgm/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Measurement } from '../../drivers/types.ts';
import { CgmSummaries, dayNumberOf, midnightOf, periodEndOf } from '../../gateway/cgm/summaries.ts';
import { defaultGlucose, SimCgm } from '../../simulators/ble/cgm.ts';
import { deviceTime, sessionMeasurements } from '../pipeline/cgm-scenarios.ts';
import {
  type AxeViolation,
  axe,
  launch,
  overflow,
  shot,
  signIn,
  type TestBrowser,
  watch,
} from './browser.ts';
import { Client, PASSWORD, startGateway, type TestGateway } from './harness.ts';

const DAY = 86_400_000;
const ZONE = 'Europe/Paris';
/** A record the sensor marks "sensor malfunction" (Status octet bit 3, CGMS): quarantined, never shown. */
const MALFUNCTION = 0x08;

let gw: TestGateway;
let c: Client;
let tb: TestBrowser | undefined;
const now = Date.now();
// The running 14-day period and a session that started two days before it: the two days before the
// period are in a closed period (the sensor was read past its end), so they can be purged.
const runningStart = periodEndOf(ZONE, 14, periodEndOf(ZONE, 14, now) - 15 * DAY);
const minutes = Math.floor((now - (runningStart - 2 * DAY)) / 60_000);
const sessionStart = now - minutes * 60_000;
const today = dayNumberOf(ZONE, now);
/** One sensor minute of today is marked as a malfunction (the latest 5-minute slot before now - 1 h). */
const badMinute = Math.floor((now - 3_600_000 - sessionStart) / 300_000) * 5;
/** The trend the simulated sensor sends with each record, (mg/dL)/min with one decimal. */
const trendTenths = (m: number) => Math.round((defaultGlucose(m) - defaultGlucose(m - 5)) * 2);

const key = (dayNumber: number) => new Date(dayNumber * DAY).toISOString().slice(0, 10);

/** The simulator's own values of a civil day in Paris (not read from the journal), without the bad one. */
function curveOf(dayNumber: number): { at: number; mgdl: number; minute: number }[] {
  const from = midnightOf(ZONE, dayNumber);
  const to = midnightOf(ZONE, dayNumber + 1);
  const out: { at: number; mgdl: number; minute: number }[] = [];
  for (let minute = 0; minute <= minutes; minute += 5) {
    const at = sessionStart + minute * 60_000;
    if (at >= from && at < to && minute !== badMinute) out.push({ at, mgdl: defaultGlucose(minute), minute });
  }
  return out;
}

/** The consensus ranges, counted here apart from the page's code. */
function ranges(values: readonly number[]): Record<string, number> {
  const n = (f: (v: number) => boolean) => values.filter(f).length;
  return {
    'very-low': n((v) => v < 54),
    low: n((v) => v >= 54 && v < 70),
    'in-range': n((v) => v >= 70 && v <= 180),
    high: n((v) => v > 180 && v <= 250),
    'very-high': n((v) => v > 250),
  };
}

const rowsOf = (html: string) => [...html.matchAll(/<tr data-cgm-value="(\d+)">(.*?)<\/tr>/gs)];
const optionsOf = (html: string) =>
  [...html.matchAll(/<option value="([\d-]+)"[^>]*data-cgm-day-option/g)].map((m) => m[1]);
const tirOf = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<li data-range="([a-z-]+)" data-count="(\d+)">(.*?)<\/li>/g)].map((m) => [
      m[1],
      { count: Number(m[2]), text: m[3] ?? '' },
    ]),
  );

beforeAll(async () => {
  gw = await startGateway({ timezone: ZONE });
  await gw.ops.addPatient({ id: 'jean', displayName: 'Jean Dupont' });
  await gw.ops.addDevice({ id: 'cgm-1', transport: 'ble', name: 'Capteur de Jean', patientId: 'jean' });
  await gw.ops.addDevice({ id: 'cuff-1', transport: 'mqtt', name: 'Tensiomètre', patientId: 'jean' });
  const cgm = new SimCgm({
    address: 'c0:11:22:33:44:71',
    sessionMinutes: minutes,
    annotate: (m) => ({
      trend: { mantissa: trendTenths(m), exponent: -1 },
      ...(m === badMinute ? { status: MALFUNCTION } : {}),
    }),
  });
  cgm.useClock(() => now);
  const measurements: Measurement[] = sessionMeasurements(cgm, sessionStart);
  for (let i = 0; i < measurements.length; i += 200) {
    const result = await gw.pipeline.submit({
      deviceId: 'cgm-1',
      transport: 'ble',
      measurements: measurements.slice(i, i + 200),
      coincident: { device: deviceTime(now), gatewayMs: now },
    });
    expect(result.status).toBe('accepted');
  }
  c = new Client(gw.url);
  await c.login();
}, 120_000);

afterAll(async () => {
  await tb?.close();
  await gw?.close();
});

describe("a CGM's sensor values on its device page", () => {
  it('shows the latest day: one table row per valid value, the time in ranges of the simulator’s curve', async () => {
    expect(gw.journal.list({ deviceId: 'cgm-1', state: 'quarantined' })).toHaveLength(1);
    const html = await (await c.go('/devices/cgm-1?lang=fr')).text();
    expect(html).toContain('Valeurs du capteur (gardées sur la passerelle jusqu’à leur synthèse)');
    expect(html).toContain(`data-cgm-shown="${key(today)}"`);
    const curve = curveOf(today);
    expect(curve.length).toBeGreaterThan(0);
    const rows = rowsOf(html);
    // one row per value of the day, in time order, the malfunction left out
    expect(rows.map((r) => Number(r[1]))).toEqual(curve.map((p) => p.at));
    // the values in French formatting, the trend with its sign and a decimal comma
    const sample = curve.at(-1)!;
    const cells = /<td[^>]*>(.*?)<\/td><td[^>]*>(.*?)<\/td>/.exec(rows.at(-1)![2]!);
    expect(cells?.[1]).toBe(String(sample.mgdl));
    const trend = trendTenths(sample.minute) / 10;
    expect(cells?.[2]).toBe(
      `${trend > 0 ? '+' : ''}${trend.toLocaleString('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 })}`,
    );
    expect(html).toContain('<th scope="col">Glucose (mg/dL)</th>');
    expect(html).toContain('<th scope="col">Tendance (mg/dL/min)</th>');
    // the trace: one point per value, the target band 70-180
    expect(html).toMatch(/<svg class="medgw-cgm-trace"[^>]*role="img"/);
    expect(html).toContain('data-cgm-band="70-180"');
    const plotted = [...html.matchAll(/<polyline points="([^"]+)"/g)].flatMap((m) => m[1]!.split(' '));
    const dots = [...html.matchAll(/<circle /g)].length;
    expect(plotted.length + dots).toBe(curve.length);
    // time in ranges: the counts of the curve, the percentages of the day's values (one decimal)
    const expected = ranges(curve.map((p) => p.mgdl));
    const tir = tirOf(html);
    for (const [range, count] of Object.entries(expected)) {
      expect(tir[range]?.count, range).toBe(count);
      const pct = ((100 * count) / curve.length).toLocaleString('fr-FR', {
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      });
      expect(tir[range]?.text, range).toContain(`<strong>${pct} %</strong>`);
    }
    expect(tir['in-range']?.text).toContain('De 70 à 180 mg/dL (plage cible)');
    expect(html).toContain('Battelino et al., Diabetes Care 2019');
    // the table is behind a disclosure, so the page stays short
    expect(html).toMatch(/<details class="fr-mt-2w" data-cgm-table><summary>Les \d+ valeurs de ce jour/);
  });

  it('offers every kept day and shows a whole one asked for, in English too', async () => {
    const days = optionsOf(await (await c.go('/devices/cgm-1')).text());
    const first = dayNumberOf(ZONE, sessionStart);
    expect(days).toEqual(Array.from({ length: today - first + 1 }, (_, i) => key(first + i)));
    const yesterday = today - 1;
    const html = await (await c.go(`/devices/cgm-1?day=${key(yesterday)}&lang=en`)).text();
    expect(html).toContain('Sensor values (kept on this gateway until summarized)');
    expect(html).toContain(`data-cgm-shown="${key(yesterday)}"`);
    const curve = curveOf(yesterday);
    // a whole day of 5-minute values (a change of clock would make it 276 or 300)
    expect([276, 288, 300]).toContain(curve.length);
    expect(rowsOf(html).map((r) => Number(r[1]))).toEqual(curve.map((p) => p.at));
    const tir = tirOf(html);
    for (const [range, count] of Object.entries(ranges(curve.map((p) => p.mgdl))))
      expect(tir[range]?.count, range).toBe(count);
    expect(tir['in-range']?.text).toContain('From 70 to 180 mg/dL (target range)');
    // the language switch keeps the day
    expect(html).toContain(`href="/devices/cgm-1?day=${key(yesterday)}&amp;lang=fr"`);
    // prev / next links between the kept days
    expect(html).toContain(`data-cgm-prev="${key(yesterday - 1)}"`);
    expect(html).toContain(`data-cgm-next="${key(today)}"`);
  });

  it('shows no such section for a device without sensor values', async () => {
    const html = await (await c.go('/devices/cuff-1')).text();
    expect(html).not.toContain('id="cgm"');
  });
});

// --- in Chromium ---------------------------------------------------------------------------------------

function describeViolations(vs: readonly AxeViolation[]): string {
  return vs
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}`).join('\n')}`,
    )
    .join('\n');
}

describe("a CGM's device page in Chromium", () => {
  for (const width of [1280, 390]) {
    for (const lang of ['fr', 'en'] as const) {
      it(`fits ${width} px in ${lang}, with no console error and no WCAG A/AA violation, table open`, async () => {
        tb ??= await launch();
        const page = await tb.context.newPage();
        await page.setViewportSize({ width, height: 900 });
        await signIn(page, gw.url, PASSWORD);
        const errors = watch(page);
        const res = await page.goto(`${gw.url}/devices/cgm-1?lang=${lang}`);
        expect(res?.status()).toBe(200);
        await page.waitForLoadState('load');
        await page.waitForTimeout(150); // the DSFR module and live.js run after load
        const svg = await page.locator('svg[data-cgm-trace]').boundingBox();
        expect(svg?.width).toBeGreaterThan(width === 390 ? 300 : 600);
        let o = await overflow(page);
        expect(o.page.scrollWidth, `closed at ${width}`).toBeLessThanOrEqual(o.page.clientWidth);
        expect(o.inner).toEqual([]);
        await shot(page, 'cgm', `${width}-${lang}-device`);
        // the table opened: still no sideways scroll
        await page.click('details[data-cgm-table] summary');
        expect(await page.locator('details[data-cgm-table] tbody tr').first().isVisible()).toBe(true);
        o = await overflow(page);
        expect(o.page.scrollWidth, `open at ${width}`).toBeLessThanOrEqual(o.page.clientWidth);
        expect(o.inner).toEqual([]);
        const v = await axe(page);
        expect(v, describeViolations(v)).toEqual([]);
        expect(errors).toEqual([]);
        await shot(page, 'cgm', `${width}-${lang}-device-table`);
        await page.close();
      }, 60_000);
    }
  }

  it('moves between days without JavaScript, with the selector and the links', async () => {
    const nojs = await launch({ javaScriptEnabled: false });
    try {
      const page = await nojs.context.newPage();
      await signIn(page, gw.url, PASSWORD);
      await page.goto(`${gw.url}/devices/cgm-1?lang=en`);
      const yesterday = key(today - 1);
      await page.selectOption('#cgm-day', yesterday);
      await Promise.all([page.waitForURL(/day=/), page.click('#cgm form button[type="submit"]')]);
      expect(await page.getAttribute('#cgm', 'data-cgm-shown')).toBe(yesterday);
      await Promise.all([page.waitForURL(/day=/), page.click('a[data-cgm-next]')]);
      expect(await page.getAttribute('#cgm', 'data-cgm-shown')).toBe(key(today));
    } finally {
      await nojs.close();
    }
  }, 60_000);
});

// after the pages above: the purge removes days they show
describe('a purged day', () => {
  it('no longer offers a day whose values were purged', async () => {
    const purgedDay = dayNumberOf(ZONE, runningStart - 1);
    expect(optionsOf(await (await c.go('/devices/cgm-1')).text())).toContain(key(purgedDay));
    // keepDays 0: every value of the closed period (the two days before the running one) has served
    const summaries = new CgmSummaries(gw.journal, gw.registry, {
      days: 14,
      intervalMinutes: 5,
      closeAfterHours: 24,
      timezone: ZONE,
      keepDays: 0,
    });
    const pass = summaries.pass(now);
    expect(pass.purged).toBeGreaterThanOrEqual(2 * 288 - 1);
    const html = await (await c.go(`/devices/cgm-1?day=${key(purgedDay)}`)).text();
    const offered = optionsOf(html);
    expect(offered).not.toContain(key(purgedDay));
    expect(offered[0]).toBe(key(dayNumberOf(ZONE, runningStart)));
    // asked for anyway: said so, and the latest day is shown
    expect(html).toContain(`data-cgm-missing="${key(purgedDay)}"`);
    expect(html).toContain(`data-cgm-shown="${key(today)}"`);
  });
});
