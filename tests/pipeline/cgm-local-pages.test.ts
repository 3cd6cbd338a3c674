/**
 * A 14-day CGM session in a whole gateway (tests/web/harness.ts: SQLite journal, real HTTP, the
 * forwarder against the national-side sandbox): the sensor values are kept local, so the quarantine
 * page (over HTTP and in Chromium without JavaScript), /metrics and the overview list none of them
 * while the device page says they are there; the closed period's MED-969 and MED-972 reach the
 * sandbox once with the values the sensor measured, and the period's sensor values are deleted once
 * both are acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgmSummaryId } from '../../drivers/normalize/cgm-summary.ts';
import { CgmSummaries, type CgmSummaryOptions, periodEndOf } from '../../gateway/cgm/summaries.ts';
import type { Submission } from '../../gateway/contracts.ts';
import { SimCgm } from '../../simulators/ble/cgm.ts';
import { authorizeInBrowser } from '../../simulators/sandbox/browser.ts';
import { launch, signIn, type TestBrowser } from '../web/browser.ts';
import { Client, PASSWORD, startGateway, type TestGateway } from '../web/harness.ts';
import { deviceTime, sensorMean, sessionMeasurements } from './cgm-scenarios.ts';

const DAY = 86_400_000;
const ZONE = 'Europe/Paris';
const OPTIONS: CgmSummaryOptions = {
  days: 14,
  intervalMinutes: 5,
  closeAfterHours: 24,
  timezone: ZONE,
  keepDays: 30,
};

let gw: TestGateway;
let c: Client;
let tb: TestBrowser | undefined;
const now = Date.now();
// The period that ended before the running one, and a sensor session from its start: it runs its
// 14 days (336 h, the simulator's Session Run Time), so its last value falls at the period's end.
const periodEnd = periodEndOf(ZONE, 14, periodEndOf(ZONE, 14, now) - 15 * DAY);
const periodStart = periodEndOf(ZONE, 14, periodEnd - 15 * DAY);
const minutes = Math.floor((now - periodStart) / 60_000);
const sessionStart = now - minutes * 60_000;
let count = 0;

async function submit(submission: Submission): Promise<void> {
  const result = await gw.pipeline.submit(submission);
  expect(result.status).toBe('accepted');
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  gw = await startGateway({ national: true });
  await gw.ops.addPatient({ id: 'jean', displayName: 'Jean Dupont' });
  await gw.ops.addDevice({ id: 'cgm-1', transport: 'ble', name: 'Capteur de Jean', patientId: 'jean' });
  await gw.ops.addDevice({ id: 'meter-1', transport: 'ble', name: 'Lecteur de Jean', patientId: 'jean' });
  // Jean links the gateway with Mon espace santé (the sandbox's login and consent pages).
  const start = await fetch(`${gw.url}/api/v1/patients/jean/link`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(start.status).toBe(200);
  const { url } = (await start.json()) as { url: string };
  const back = await authorizeInBrowser(url, { login: 'jean.dupont', password: 'sandbox' });
  expect((await fetch(back, { redirect: 'manual' })).status).toBe(303);

  const cgm = new SimCgm({ address: 'c0:11:22:33:44:70', sessionMinutes: minutes });
  cgm.useClock(() => now);
  const measurements = sessionMeasurements(cgm, sessionStart);
  count = measurements.length;
  for (let i = 0; i < measurements.length; i += 200) {
    await submit({
      deviceId: 'cgm-1',
      transport: 'ble',
      measurements: measurements.slice(i, i + 200),
      coincident: { device: deviceTime(now), gatewayMs: now },
    });
  }
  // One reading that is to check: a meter's interstitial spot value (never a sensor stream).
  await submit({
    deviceId: 'meter-1',
    transport: 'ble',
    measurements: [
      {
        kind: 'glucose',
        source: '2A18',
        sequence: 1,
        deviceTime: deviceTime(now - 60_000),
        components: [{ name: 'glucose', value: { mantissa: 98, exponent: 0, value: 98 }, unit: 'mg/dL' }],
        context: { type: 'interstitial-fluid' },
        final: true,
      },
    ],
    coincident: { device: deviceTime(now), gatewayMs: now },
  });
  c = new Client(gw.url);
  await c.login();
}, 120_000);

afterAll(async () => {
  await tb?.close();
  await gw?.close();
});

const rows = (html: string) => [...html.matchAll(/<tr data-reading="([^"]+)"/g)].map((m) => m[1]);

describe('a 14-day CGM session in a whole gateway', () => {
  it('keeps every sensor value local: none to check on the quarantine page, /metrics or the overview', async () => {
    expect(count).toBeGreaterThan(14 * 288);
    expect(gw.journal.list({ state: 'local' })).toHaveLength(count);
    const quarantined = gw.journal.list({ state: 'quarantined' });
    expect(quarantined.map((r) => r.deviceId)).toEqual(['meter-1']);

    const page = await (await c.go('/quarantine')).text();
    expect(rows(page)).toEqual([quarantined[0]!.id]);

    const metrics = await (await c.go('/metrics', { headers: { accept: 'text/plain' } })).text();
    expect(metrics).toContain('medgw_readings{state="quarantined"} 1');
    expect(metrics).toContain(`medgw_readings{state="local"} ${count}`);
    expect(metrics).toContain('medgw_queue_depth 0');
    expect(metrics).toContain('medgw_oldest_unsent_age_seconds');
    expect(metrics).not.toMatch(/medgw_oldest_unsent_age_seconds \d{4,}/);

    const overview = (await (
      await c.go('/overview.json', { headers: { accept: 'application/json' } })
    ).json()) as {
      patients: { id: string; last: { kind: string }[] }[];
      ledger: { deviceId: string; waiting: number }[];
    };
    // nothing of the CGM waits, and a kept sensor value is not the patient's last glucose reading
    expect(overview.ledger.find((l) => l.deviceId === 'cgm-1')).toMatchObject({ waiting: 0 });
    expect(overview.ledger.find((l) => l.deviceId === 'meter-1')).toMatchObject({ waiting: 1 });
    expect(overview.patients.find((p) => p.id === 'jean')?.last).toEqual([]);

    const device = await (await c.go('/devices/cgm-1')).text();
    expect(device).toContain(`data-cgm-kept="${count}"`);
  });

  it('in Chromium without JavaScript, the quarantine page lists the one reading to check', async () => {
    tb = await launch({ javaScriptEnabled: false });
    const p = await tb.context.newPage();
    await signIn(p, gw.url, PASSWORD);
    await p.goto(`${gw.url}/quarantine`);
    const listed = await p
      .locator('tr[data-reading]')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-reading')));
    expect(listed).toEqual([gw.journal.list({ state: 'quarantined' })[0]!.id]);
  });

  it('sends the closed period once with the values the sensor measured, then deletes its sensor values', async () => {
    const summaries = new CgmSummaries(gw.journal, gw.registry, OPTIONS);
    expect(summaries.pass(Date.now())).toEqual({ appended: 2, insufficient: 0, purged: 0 });
    const ids = (['cgm-mean-glucose', 'glucose-management-indicator'] as const).map((k) =>
      cgmSummaryId('cgm-1', k, 14, periodEnd),
    );
    await until('both summaries delivered', () =>
      ids.every((id) => gw.journal.get(id)?.state === 'delivered'),
    );

    const { mean, n } = sensorMean(sessionStart, minutes, periodStart, periodEnd);
    expect(n).toBe(14 * 288);
    const filed = gw.sandbox!.observations().filter((o) => o.code === 'MED-969' || o.code === 'MED-972');
    const value = (code: string) =>
      (filed.find((o) => o.code === code)?.resource['valueQuantity'] as { value?: number } | undefined)
        ?.value;
    expect(filed.map((o) => o.code).sort()).toEqual(['MED-969', 'MED-972']);
    expect(value('MED-969')).toBe(Math.round(mean));
    expect(value('MED-972')).toBe(Math.round((3.31 + 0.02392 * mean) * 10) / 10);

    // Acknowledged: the period's n values go at the next pass; the running period's stay.
    expect(summaries.pass(Date.now())).toEqual({ appended: 0, insufficient: 0, purged: n });
    expect(gw.journal.list({ state: 'local' })).toHaveLength(count - n);
    expect(gw.journal.auditList().at(-1)).toMatchObject({
      event: 'cgm.points-purged',
      deviceId: 'cgm-1',
      detail: { rule: 'acknowledged', deleted: n },
    });
    expect(gw.journal.auditVerify()).toBeUndefined();
    const device = await (await c.go('/devices/cgm-1')).text();
    expect(device).toContain(`data-cgm-kept="${count - n}"`);

    // Sent once: another pass (or a restart's) sends nothing more.
    const again = new CgmSummaries(gw.journal, gw.registry, OPTIONS);
    expect(again.pass(Date.now())).toEqual({ appended: 0, insufficient: 0, purged: 0 });
    await new Promise((r) => setTimeout(r, 300));
    const after = gw.sandbox!.observations().filter((o) => o.code === 'MED-969' || o.code === 'MED-972');
    expect(after).toHaveLength(2);
    expect(after.every((o) => o.duplicateOf === undefined)).toBe(true);
  });
});
