/**
 * Continuous glucose summaries from the journal (gateway/cgm/summaries.ts): a CGM's sensor values go
 * through the real pipeline (kept local as interstitial spot values), then each closed period becomes its
 * MED-969 and MED-972 records for the device's patient, once, whatever the number of passes.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { cgmMeasurementToMeasurements } from '../../drivers/codecs/cgm-measurement.ts';
import { decodeFrame } from '../../drivers/decode.ts';
import type { DeviceDateTime } from '../../drivers/types.ts';
import { CgmSummaries, periodEndOf } from '../../gateway/cgm/summaries.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { defaultGlucose, encodeCgmMeasurement, SimCgm } from '../../simulators/ble/cgm.ts';

const DAY = 86_400_000;
const ZONE = 'Europe/Paris';
const log = pino({ level: 'silent' });

/** A device wall time (the simulator's clock runs at UTC+1 in winter, like a French meter). */
function deviceTime(utcMs: number): DeviceDateTime {
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

let now: number;
let registry: LowRegistry;
let journal: MemoryJournal;
let pipeline: Pipeline;

beforeEach(async () => {
  // 28 November 2026, 10:00 UTC: day 20,785 since 1970 in Paris; the 14-day periods end at the midnights of
  // days divisible by 14 (20,776 = 19 November, 20,790 = 3 December).
  now = Date.UTC(2026, 10, 28, 10, 0);
  const clock = { now: () => now };
  registry = await LowRegistry.memory();
  await addPatient(registry, { id: 'marie', displayName: 'Marie' }, clock);
  await addDevice(registry, { id: 'cgm-1', transport: 'ble', patientId: 'marie' }, clock);
  await addDevice(registry, { id: 'cgm-2', transport: 'ble', patientId: 'marie' }, clock);
  journal = new MemoryJournal({ clock });
  pipeline = new Pipeline({ journal, registry, clock, log, timeZone: ZONE });
  await pipeline.start();
});

/** Reads a simulated session the way the gateway does: bytes → codec → pipeline (with the device's clock). */
async function ingest(deviceId: string, cgm: SimCgm, sessionStartUtc: number): Promise<number> {
  const sessionStart = deviceTime(sessionStartUtc);
  const records = cgm.records();
  for (let i = 0; i < records.length; i += 100) {
    const measurements = records.slice(i, i + 100).flatMap((record) => {
      const decoded = decodeFrame('2AA7', encodeCgmMeasurement([record], true));
      return cgmMeasurementToMeasurements(decoded.fields as never, sessionStart);
    });
    const result = await pipeline.submit({
      deviceId,
      transport: 'ble',
      measurements,
      coincident: { device: deviceTime(now), gatewayMs: now },
    });
    expect(result.status).toBe('accepted');
  }
  return records.length;
}

describe('continuous glucose summaries from the journal', () => {
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

  it('summarizes a closed period to the mean and GMI of what the sensor took, for the patient, once', async () => {
    // A sensor worn from the start of the period that ended on 19 November (Paris midnight, 23:00 UTC the
    // day before) and read on 28 November: one full period closed, the next one still running.
    const periodEnd = Date.UTC(2026, 10, 18, 23);
    const periodStart = periodEnd - 14 * DAY;
    const minutes = Math.floor((now - periodStart) / 60_000);
    const cgm = new SimCgm({ address: 'c0:11:22:33:44:66', sessionMinutes: minutes });
    cgm.useClock(() => now);
    const sessionStart = now - minutes * 60_000;
    const count = await ingest('cgm-1', cgm, sessionStart);
    expect(journal.list({ deviceId: 'cgm-1', state: 'quarantined' })).toHaveLength(count);

    const summaries = new CgmSummaries(journal, registry, {
      days: 14,
      intervalMinutes: 5,
      closeAfterHours: 24,
      timezone: ZONE,
    });
    const first = summaries.pass(now);
    expect(first).toEqual({ appended: 2, insufficient: 0 });

    // What the sensor measured in that period, from the simulator's own curve.
    let sum = 0;
    let n = 0;
    for (let minute = 0; minute <= minutes; minute += 5) {
      const at = sessionStart + minute * 60_000;
      if (at >= periodStart && at < periodEnd) {
        sum += defaultGlucose(minute);
        n += 1;
      }
    }
    const mean = sum / n;
    const pending = journal.list({ deviceId: 'cgm-1', state: 'pending' });
    expect(pending.map((r) => r.kind).sort()).toEqual(['cgm-mean-glucose', 'glucose-management-indicator']);
    expect(pending.every((r) => r.patientId === 'marie')).toBe(true);
    const meanRecord = pending.find((r) => r.kind === 'cgm-mean-glucose');
    const gmiRecord = pending.find((r) => r.kind === 'glucose-management-indicator');
    expect(meanRecord?.observation?.value).toBe(Math.round(mean));
    expect(gmiRecord?.observation?.value).toBe(Math.round((3.31 + 0.02392 * mean) * 10) / 10);
    expect(meanRecord?.observation?.time.utc).toBe(new Date(periodEnd).toISOString());
    expect(meanRecord?.observation?.context?.periodDays).toBe(14);

    // A second pass, or a pass after a restart, appends nothing new.
    expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 0 });
    const again = new CgmSummaries(journal, registry, {
      days: 14,
      intervalMinutes: 5,
      closeAfterHours: 24,
      timezone: ZONE,
    });
    expect(again.pass(now + DAY)).toEqual({ appended: 0, insufficient: 0 });
    expect(journal.list({ deviceId: 'cgm-1', state: 'pending' })).toHaveLength(2);
  });

  it('does not summarize a period with too little data, and says so once in the audit log', async () => {
    // Three days of sensor data in a period that closed on 19 November.
    const periodEnd = Date.UTC(2026, 10, 18, 23);
    const cgm = new SimCgm({ address: 'c0:11:22:33:44:67', sessionMinutes: 3 * 1440 });
    const readAt = periodEnd + 2 * 3_600_000;
    cgm.useClock(() => readAt);
    const saved = now;
    now = readAt;
    await ingest('cgm-2', cgm, readAt - 3 * 1440 * 60_000);
    now = saved;
    const summaries = new CgmSummaries(journal, registry, {
      days: 14,
      intervalMinutes: 5,
      closeAfterHours: 24,
      timezone: ZONE,
    });
    expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 1 });
    expect(summaries.pass(now)).toEqual({ appended: 0, insufficient: 1 });
    const audit = journal.auditList({}).filter((e) => e.event === 'cgm.summary-insufficient');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      deviceId: 'cgm-2',
      detail: { code: 'MEDGW_ERR_CGM_INSUFFICIENT_DATA', days: 14 },
    });
    expect(journal.list({ deviceId: 'cgm-2', state: 'pending' })).toHaveLength(0);
  });
});
