/**
 * Continuous glucose summaries from the journal (gateway/cgm/summaries.ts), run on every journal
 * implementation (call `cgmScenarios(name, factory)` from a test file): a CGM's sensor values go through
 * the real pipeline and are kept local (journal state `local`, never quarantined), each closed period
 * becomes its MED-969 and MED-972 records for the device's patient, once, and the values are deleted
 * once their period's summaries are acknowledged, or once they are older than `cgm.keepDays`.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgmMeasurementToMeasurements } from '../../drivers/codecs/cgm-measurement.ts';
import { decodeFrame } from '../../drivers/decode.ts';
import { cgmSummaryId } from '../../drivers/normalize/cgm-summary.ts';
import type { DeviceDateTime, Measurement } from '../../drivers/types.ts';
import {
  CgmSummaries,
  type CgmSummaryOptions,
  keptPoints,
  periodEndOf,
} from '../../gateway/cgm/summaries.ts';
import type { Clock, Journal } from '../../gateway/contracts.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { defaultGlucose, encodeCgmMeasurement, SimCgm } from '../../simulators/ble/cgm.ts';

const DAY = 86_400_000;
const ZONE = 'Europe/Paris';
const log = pino({ level: 'silent' });

export type CgmJournalFactory = (clock: Clock) => Journal | Promise<Journal>;

/** A device wall time (the simulator's clock runs at UTC+1 in winter, like a French meter). */
export function deviceTime(utcMs: number): DeviceDateTime {
  const d = new Date(utcMs + 3_600_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
  };
}

/** The measurements of a simulated session as the gateway reads them: simulator bytes → codec. */
export function sessionMeasurements(cgm: SimCgm, sessionStartUtc: number): Measurement[] {
  const sessionStart = deviceTime(sessionStartUtc);
  return cgm.records().flatMap((record) => {
    const decoded = decodeFrame('2AA7', encodeCgmMeasurement([record], true));
    return cgmMeasurementToMeasurements(decoded.fields as never, sessionStart);
  });
}

/** The mean the sensor measured over [from, to), from the simulator's own curve (not from the journal). */
export function sensorMean(sessionStart: number, minutes: number, from: number, to: number) {
  let sum = 0;
  let n = 0;
  for (let minute = 0; minute <= minutes; minute += 5) {
    const at = sessionStart + minute * 60_000;
    if (at >= from && at < to) {
      sum += defaultGlucose(minute);
      n += 1;
    }
  }
  return { mean: sum / n, n };
}

export function cgmScenarios(name: string, factory: CgmJournalFactory): void {
  describe(`continuous glucose summaries from the journal: ${name}`, () => {
    let now: number;
    let registry: LowRegistry;
    let journal: Journal;
    let pipeline: Pipeline;
    const options = (over: Partial<CgmSummaryOptions> = {}): CgmSummaryOptions => ({
      days: 14,
      intervalMinutes: 5,
      closeAfterHours: 24,
      timezone: ZONE,
      ...over,
    });

    beforeEach(async () => {
      // 28 November 2026, 10:00 UTC: day 20,785 since 1970 in Paris; the 14-day periods end at the
      // midnights of days divisible by 14 (20,776 = 19 November, 20,790 = 3 December).
      now = Date.UTC(2026, 10, 28, 10, 0);
      const clock = { now: () => now };
      registry = await LowRegistry.memory();
      await addPatient(registry, { id: 'marie', displayName: 'Marie' }, clock);
      await addDevice(registry, { id: 'cgm-1', transport: 'ble', patientId: 'marie' }, clock);
      await addDevice(registry, { id: 'cgm-2', transport: 'ble', patientId: 'marie' }, clock);
      await addDevice(registry, { id: 'meter-1', transport: 'ble', patientId: 'marie' }, clock);
      journal = await factory(clock);
      pipeline = new Pipeline({ journal, registry, clock, log, timeZone: ZONE });
      await pipeline.start();
    });
    afterEach(async () => {
      await pipeline.stop();
      journal.close();
    });

    /** Submits as the BLE central does; a CGM's values are kept local, which is no reason to report. */
    async function submit(deviceId: string, measurements: Measurement[], local = true): Promise<void> {
      for (let i = 0; i < measurements.length; i += 100) {
        const result = await pipeline.submit({
          deviceId,
          transport: 'ble',
          measurements: measurements.slice(i, i + 100),
          coincident: { device: deviceTime(now), gatewayMs: now },
        });
        expect(result.status).toBe('accepted');
        if (local) expect(result.code).toBeUndefined();
      }
    }

    it('cuts the same consecutive 14-day periods in the gateway zone, across a change of summer time', () => {
      const end = periodEndOf(ZONE, 14, Date.UTC(2026, 10, 28, 10));
      expect(new Date(end).toISOString()).toBe('2026-12-02T23:00:00.000Z'); // 3 December, 00:00 in Paris
      // A point just before that midnight belongs to this period, one at it to the next.
      expect(periodEndOf(ZONE, 14, end - 1)).toBe(end);
      expect(periodEndOf(ZONE, 14, end)).toBeGreaterThan(end);
      // 29 March 2026 (summer time starts): the period holding it ends at a Paris midnight too.
      const spring = periodEndOf(ZONE, 14, Date.UTC(2026, 2, 29, 12));
      const wall = new Date(spring + 2 * 3_600_000);
      expect([wall.getUTCHours(), wall.getUTCMinutes()]).toEqual([0, 0]);
    });

    it('keeps a sensor session local, summarizes its closed period once, and deletes its values once acknowledged', async () => {
      // A sensor session started with the period that ended on 19 November (Paris midnight, 23:00 UTC
      // the day before), read on 28 November: it ran its 14 days (336 h), so the closed period holds all
      // but its last value, taken at the period's end, which opens the running period.
      const periodEnd = Date.UTC(2026, 10, 18, 23);
      const periodStart = periodEnd - 14 * DAY;
      const minutes = Math.floor((now - periodStart) / 60_000);
      const cgm = new SimCgm({ address: 'c0:11:22:33:44:66', sessionMinutes: minutes });
      cgm.useClock(() => now);
      const sessionStart = now - minutes * 60_000;
      const measurements = sessionMeasurements(cgm, sessionStart);
      await submit('cgm-1', measurements);
      const count = measurements.length;

      // Nothing to review: no quarantined reading, no quarantine counter; every value kept local.
      expect(journal.list({ state: 'quarantined' })).toHaveLength(0);
      expect(pipeline.counters.quarantined).toEqual({});
      expect(pipeline.counters.local).toBe(count);
      const local = journal.list({ deviceId: 'cgm-1', state: 'local' });
      expect(local).toHaveLength(count);
      expect(local.every((r) => r.reason?.code === 'MEDGW_ERR_CGM_POINT_LOCAL')).toBe(true);
      expect(local.every((r) => r.observation?.quarantine === undefined)).toBe(true);
      const stats = journal.stats(now);
      expect(stats.byState).toMatchObject({ local: count, quarantined: 0, pending: 0 });
      expect(stats.oldestUnsentAgeMs).toBeNull();
      expect(keptPoints(journal, 'cgm-1', options(), now)).toEqual({
        count,
        oldestMs: sessionStart,
        periodEndMs: Date.UTC(2026, 11, 2, 23),
      });

      // keepDays 30: only the acknowledgment deletes values in this scenario
      const summaries = new CgmSummaries(journal, registry, options({ keepDays: 30 }));
      expect(summaries.pass(now)).toEqual({ appended: 2, insufficient: 0, purged: 0 });

      const { mean, n } = sensorMean(sessionStart, minutes, periodStart, periodEnd);
      expect(n).toBe(14 * 288);
      const pending = journal.list({ deviceId: 'cgm-1', state: 'pending' });
      expect(pending.map((r) => r.kind).sort()).toEqual(['cgm-mean-glucose', 'glucose-management-indicator']);
      expect(pending.every((r) => r.patientId === 'marie')).toBe(true);
      const meanRecord = pending.find((r) => r.kind === 'cgm-mean-glucose');
      const gmiRecord = pending.find((r) => r.kind === 'glucose-management-indicator');
      expect(meanRecord?.observation?.value).toBe(Math.round(mean));
      expect(gmiRecord?.observation?.value).toBe(Math.round((3.31 + 0.02392 * mean) * 10) / 10);
      expect(meanRecord?.observation?.time.utc).toBe(new Date(periodEnd).toISOString());
      expect(meanRecord?.observation?.context).toEqual({ periodDays: 14, points: n });

      // A second pass, or a pass after a restart, appends nothing new and deletes nothing yet.
      expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 0, purged: 0 });
      const again = new CgmSummaries(journal, registry, options({ keepDays: 30 }));
      expect(again.pass(now + DAY)).toEqual({ appended: 0, insufficient: 0, purged: 0 });
      expect(journal.list({ deviceId: 'cgm-1', state: 'pending' })).toHaveLength(2);

      // One summary acknowledged is not enough; both are.
      const [first, second] = pending;
      journal.transition(first!.id, 'pending', 'in-flight');
      journal.transition(first!.id, 'in-flight', 'delivered', { remoteId: 'Observation/1' });
      expect(again.pass(now)).toEqual({ appended: 0, insufficient: 0, purged: 0 });
      journal.transition(second!.id, 'pending', 'in-flight');
      journal.transition(second!.id, 'in-flight', 'delivered', { remoteId: 'Observation/2' });
      const audited = journal.auditList().length;
      // The closed period's values go (each of the n the summary counted), the running period's stay.
      expect(again.pass(now)).toEqual({ appended: 0, insufficient: 0, purged: n });
      const left = journal.list({ deviceId: 'cgm-1', state: 'local' });
      expect(left).toHaveLength(count - n);
      expect(left.every((r) => Date.parse(r.observation?.time.utc ?? '') >= periodEnd)).toBe(true);
      const purge = journal.auditList().slice(audited);
      expect(purge).toHaveLength(1);
      expect(purge[0]).toMatchObject({
        event: 'cgm.points-purged',
        deviceId: 'cgm-1',
        patientId: 'marie',
        detail: { rule: 'acknowledged', days: 14, keepDays: 30, deleted: n },
      });
      expect(purge[0]?.readingId).toBeUndefined();
      expect(journal.auditVerify()).toBeUndefined();
      // Sent once: the period is not summarized again from what is left, nor judged insufficient.
      expect(again.pass(now + DAY)).toEqual({ appended: 0, insufficient: 0, purged: 0 });
      expect(journal.list({ state: 'pending' })).toHaveLength(0);
      expect(journal.auditList().filter((e) => e.event === 'cgm.summary-insufficient')).toHaveLength(0);
    });

    it('does not summarize a period with too little data, says so once, and deletes its values after cgm.keepDays', async () => {
      // Three days of sensor data in a period that closed on 19 November.
      const periodEnd = Date.UTC(2026, 10, 18, 23);
      const cgm = new SimCgm({ address: 'c0:11:22:33:44:67', sessionMinutes: 3 * 1440 });
      const readAt = periodEnd + 2 * 3_600_000;
      cgm.useClock(() => readAt);
      const saved = now;
      now = readAt;
      const measurements = sessionMeasurements(cgm, readAt - 3 * 1440 * 60_000);
      await submit('cgm-2', measurements);
      now = saved;
      const summaries = new CgmSummaries(journal, registry, options());
      expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 1, purged: 0 });
      expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 1, purged: 0 });
      const audit = journal.auditList({}).filter((e) => e.event === 'cgm.summary-insufficient');
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        deviceId: 'cgm-2',
        detail: { code: 'MEDGW_ERR_CGM_INSUFFICIENT_DATA', days: 14 },
      });
      expect(journal.list({ deviceId: 'cgm-2', state: 'pending' })).toHaveLength(0);
      // keepDays defaults to the period + 2 days (16): on 5 December the values of 16 to 19 November
      // are older than that, except those taken in the last hour before the 16-day mark.
      const later = Date.UTC(2026, 11, 5, 0);
      const old = measurements.filter(
        (_, i) => readAt - (measurements.length - 1 - i) * 5 * 60_000 < later - 16 * DAY,
      ).length;
      expect(old).toBeGreaterThan(0);
      expect(old).toBeLessThan(measurements.length);
      // (the next period, closed by then, holds the last hour of the session: insufficient too)
      expect(summaries.pass(later)).toEqual({ appended: 0, insufficient: 2, purged: old });
      expect(journal.list({ deviceId: 'cgm-2', state: 'local' })).toHaveLength(measurements.length - old);
      expect(journal.auditList().at(-1)).toMatchObject({
        event: 'cgm.points-purged',
        detail: { rule: 'age', keepDays: 16, deleted: old },
      });
      expect(summaries.pass(later + DAY)).toMatchObject({ purged: measurements.length - old });
      expect(journal.list({ state: 'local' })).toHaveLength(0);
      expect(journal.auditVerify()).toBeUndefined();
    });

    it("keeps a meter's interstitial spot value and a sensor value marked invalid in quarantine", async () => {
      await submit(
        'meter-1',
        [
          {
            kind: 'glucose',
            source: '2A18',
            sequence: 7,
            deviceTime: deviceTime(now - 60_000),
            components: [
              { name: 'glucose', value: { mantissa: 104, exponent: 0, value: 104 }, unit: 'mg/dL' },
            ],
            context: { type: 'interstitial-fluid' },
            final: true,
          },
        ],
        false,
      );
      const cgm = new SimCgm({ address: 'c0:11:22:33:44:68', sessionMinutes: 10 });
      cgm.useClock(() => now);
      const [bad, ...good] = sessionMeasurements(cgm, now - 10 * 60_000);
      await submit('cgm-1', [{ ...bad!, flags: ['cgmSensorMalfunction'] }, ...good], false);
      const quarantined = journal.list({ state: 'quarantined' });
      expect(quarantined.map((r) => [r.deviceId, r.reason?.code])).toEqual([
        ['meter-1', 'MEDGW_ERR_GLUCOSE_INTERSTITIAL'],
        ['cgm-1', expect.not.stringMatching(/INTERSTITIAL|CGM_POINT_LOCAL/)],
      ]);
      expect(journal.list({ state: 'local' })).toHaveLength(good.length);
      // neither is a sensor value the summaries read or purge
      expect(keptPoints(journal, 'meter-1', options(), now).count).toBe(0);
      expect(keptPoints(journal, 'cgm-1', options(), now).count).toBe(good.length);
    });

    it('reads and purges the sensor values a journal written before the local state quarantined', async () => {
      // 7-day periods (19 November is day 20,776, a multiple of 7 too): half the values to move.
      const periodEnd = Date.UTC(2026, 10, 18, 23);
      const periodStart = periodEnd - 7 * DAY;
      const minutes = Math.floor((periodEnd + DAY - periodStart) / 60_000);
      const cgm = new SimCgm({ address: 'c0:11:22:33:44:69', sessionMinutes: minutes });
      const readAt = periodStart + minutes * 60_000;
      cgm.useClock(() => readAt);
      const saved = now;
      now = readAt;
      await submit('cgm-2', sessionMeasurements(cgm, periodStart));
      now = saved;
      // What the pipeline stored before: the same values, quarantined as interstitial spot values.
      const legacy = journal.list({ deviceId: 'cgm-2', state: 'local' }).map((r) => ({
        id: `old-${r.id}`,
        deviceId: 'cgm-2',
        patientId: 'marie',
        observation: r.observation!,
        state: 'quarantined' as const,
        reason: { code: 'MEDGW_ERR_GLUCOSE_INTERSTITIAL', message: 'interstitial' },
      }));
      journal.purgeLocal(
        legacy.map((r) => r.id.slice(4)),
        { event: 'test.reset' },
      );
      journal.append(legacy);
      const summaries = new CgmSummaries(journal, registry, options({ days: 7, keepDays: 30 }));
      // (the day after the period, in a closed period of its own, is too little for a summary)
      expect(summaries.pass(now)).toEqual({ appended: 2, insufficient: 1, purged: 0 });
      const { mean, n } = sensorMean(periodStart, minutes, periodStart, periodEnd);
      expect(n).toBe(7 * 288);
      const id = cgmSummaryId('cgm-2', 'cgm-mean-glucose', 7, periodEnd);
      expect(journal.get(id)?.observation?.value).toBe(Math.round(mean));
      for (const r of journal.list({ state: 'pending' })) {
        journal.transition(r.id, 'pending', 'in-flight');
        journal.transition(r.id, 'in-flight', 'delivered');
      }
      // Purged as a discard: values dropped, the row and its own audit entry kept.
      expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 1, purged: n });
      const discarded = journal.list({ deviceId: 'cgm-2', state: 'dead-letter' });
      expect(discarded).toHaveLength(n);
      expect(discarded.every((r) => r.observation === null)).toBe(true);
      expect(journal.list({ deviceId: 'cgm-2', state: 'quarantined' })).toHaveLength(legacy.length - n);
      expect(journal.auditList({ readingId: discarded[0]!.id }).map((e) => e.event)).toEqual([
        'reading.stored',
        'cgm.point-purged',
      ]);
      expect(journal.auditVerify()).toBeUndefined();
    });
  });
}
