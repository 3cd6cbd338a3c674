/**
 * The provider overview and the exchanges page show when a reading was taken and, apart, when the
 * gateway received it; a reading the device did not date says so instead of passing its reception off
 * as a taken time. Readings go through the real pipeline (normalization and its time rules) into a
 * journal, and the pages are rendered from it.
 */
import { describe, expect, it } from 'vitest';
import type { CoincidentTime, DeviceDateTime, Measurement } from '../../drivers/types.ts';
import { LocalAdminOps } from '../admin/ops.ts';
import { MemoryJournal } from '../journal/memory.ts';
import { silentLogger } from '../log.ts';
import { Operations } from '../ops/operations.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { LowRegistry } from '../registry/registry.ts';
import type { WebDeps } from './deps.ts';
import { formatTime, type PageContext } from './html.ts';
import { translator } from './i18n/index.ts';
import { patientOverview } from './model.ts';
import { exchangesPage, overviewPage } from './pages.ts';

const NOW = Date.UTC(2026, 10, 20, 10, 0); // 11:00 in Paris
const dt = (y: number, mo: number, d: number, h: number, mi: number): DeviceDateTime => ({
  year: y,
  month: mo,
  day: d,
  hours: h,
  minutes: mi,
  seconds: 0,
});
const weight = (kg: number, deviceTime?: DeviceDateTime): Measurement => ({
  kind: 'body-weight',
  source: '2A9D',
  ...(deviceTime ? { deviceTime } : {}),
  components: [{ name: 'weight', value: { mantissa: kg * 10, exponent: -1, value: kg }, unit: 'kg' }],
  final: true,
});
const pressure = (): Measurement => ({
  kind: 'blood-pressure',
  source: '2A35',
  components: [
    { name: 'systolic', value: { mantissa: 120, exponent: 0, value: 120 }, unit: 'mm[Hg]' },
    { name: 'diastolic', value: { mantissa: 80, exponent: 0, value: 80 }, unit: 'mm[Hg]' },
  ],
  final: true,
});

async function gateway() {
  const clock = { now: () => NOW };
  const registry = await LowRegistry.memory();
  const journal = new MemoryJournal({ clock });
  const ops = new Operations(new LocalAdminOps(registry, journal, clock), { registry, journal });
  await ops.addPatient({ id: 'p1', displayName: 'Marie' });
  await ops.addDevice({ id: 'scale', transport: 'ble', patientId: 'p1' });
  await ops.addDevice({ id: 'cuff', transport: 'ble', patientId: 'p1' });
  const log = silentLogger();
  const pipeline = new Pipeline({ journal, registry, clock, log, timeZone: 'Europe/Paris' });
  await pipeline.start();
  const deps: WebDeps = { dataDir: '/nonexistent', registry, journal, ops, clock, log };
  return { deps, journal, pipeline };
}

const ctx = (lang: 'en' | 'fr'): PageContext => ({ lang, t: translator(lang), csrf: 'x', path: '/' });
const cells = (html: string, which: 'taken' | 'received') =>
  [...html.matchAll(new RegExp(`<td[^>]* data-time="${which}"[^>]*>([^<]*)</td>`, 'g'))].map((m) => m[1]);

describe('taken and received, apart', () => {
  it('the overview and the exchanges page show both; an undated reading says it was not dated', async () => {
    const { deps, pipeline } = await gateway();
    // The scale, read now, is 3 minutes fast and keeps summer time (Local Time Information):
    // its 10 August 08:33 is 08:30 civil, 06:30Z.
    const coincident: CoincidentTime = {
      device: dt(2026, 11, 20, 11, 3),
      gatewayMs: NOW,
      dstOffsetMinutes: 0,
    };
    await pipeline.submit({
      deviceId: 'scale',
      transport: 'ble',
      coincident,
      measurements: [weight(70, dt(2026, 8, 10, 8, 33))],
    });
    // The cuff sends no time stamp: dated at reception.
    await pipeline.submit({ deviceId: 'cuff', transport: 'ble', measurements: [pressure()] });

    const [p] = patientOverview(deps);
    expect(p?.last).toEqual([
      { kind: 'blood-pressure', quality: 'received', received: NOW },
      { kind: 'body-weight', taken: Date.UTC(2026, 7, 10, 6, 30), quality: 'corrected', received: NOW },
    ]);
    // Taken in August: a gap of 102 days (10 August 06:30Z to 20 November 10:00Z) in weighings, though the reading arrived today.
    expect(p?.gaps).toEqual([{ kind: 'body-weight', days: 102 }]);

    for (const lang of ['en', 'fr'] as const) {
      const t = translator(lang);
      const taken = formatTime(lang, Date.UTC(2026, 7, 10, 6, 30), '');
      const received = formatTime(lang, NOW, '');
      const overview = overviewPage(ctx(lang), deps);
      expect(overview).toContain(t('overview.takenReceived', { taken, received }));
      expect(overview).toContain(t('overview.takenReceived', { taken: t('time.notDated'), received }));
      const exchanges = exchangesPage(ctx(lang), deps);
      expect(cells(exchanges, 'taken').sort()).toEqual([taken, t('time.notDated')].sort());
      expect(cells(exchanges, 'received')).toEqual([received, received]);
      expect(exchanges).toContain(t('exchanges.taken'));
      expect(exchanges).toContain(t('exchanges.received'));
    }
  });

  it('a time whose summer hour is unsure says so; a delivered reading keeps its taken time', async () => {
    const { deps, journal, pipeline } = await gateway();
    // No Local Time Information: August read in November cannot tell whether the clock keeps summer time.
    const coincident: CoincidentTime = { device: dt(2026, 11, 20, 11, 3), gatewayMs: NOW };
    const r = await pipeline.submit({
      deviceId: 'scale',
      transport: 'ble',
      coincident,
      measurements: [weight(70, dt(2026, 8, 10, 8, 33))],
    });
    const exchanges = exchangesPage(ctx('en'), deps);
    const t = translator('en');
    expect(cells(exchanges, 'taken')).toEqual([
      `${formatTime('en', Date.UTC(2026, 7, 10, 6, 30), '')} (${t('time.dstUnknown')})`,
    ]);
    // Delivered: the values are purged; the page reads the taken time the delivery audit entry kept.
    const id = r.ids[0]!;
    journal.transition(id, 'pending', 'in-flight');
    journal.transition(id, 'in-flight', 'delivered', {
      remoteId: 'Observation/1',
      audit: {
        event: 'mes.delivered',
        detail: { measuredAt: '2026-08-10T06:30:00.000Z', timeQuality: 'dst-unknown', receivedAt: NOW },
      },
    });
    expect(journal.list({ deviceId: 'scale' })[0]?.observation).toBeNull();
    expect(cells(exchangesPage(ctx('en'), deps), 'taken')).toEqual([
      `${formatTime('en', Date.UTC(2026, 7, 10, 6, 30), '')} (${t('time.dstUnknown')})`,
    ]);
    expect(patientOverview(deps)[0]?.last).toEqual([
      { kind: 'body-weight', taken: Date.UTC(2026, 7, 10, 6, 30), quality: 'dst-unknown', received: NOW },
    ]);
  });
});
