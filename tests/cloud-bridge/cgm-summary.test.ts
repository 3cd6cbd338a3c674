/**
 * Continuous glucose summaries (drivers/normalize/cgm-summary.ts): a 14-day session of the CGM
 * simulator, its records encoded by the simulator and decoded by the codec, summarized to the mean
 * glucose (MED-969) and the GMI (MED-972) the sources define, and filed at the real sandbox with the
 * number of days and no meal moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import { decodeFrame } from '../../drivers/decode.ts';
import {
  type CgmPoint,
  cgmSummaryId,
  cgmSummaryObservations,
  gmiFromMean,
  isCgmSummary,
  summarizeCgm,
} from '../../drivers/normalize/cgm-summary.ts';
import { defaultGlucose, encodeCgmMeasurement, SimCgm } from '../../simulators/ble/cgm.ts';
import { type NationalSide, startNationalSide } from './helpers.ts';

const DAY = 86_400_000;
const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
const CGM_DEVICE = {
  id: 'ble-cgm-1',
  identity: {
    systemId: '00-1B-DC-FF-FE-0C-61-01',
    address: 'C0:11:22:33:44:66',
    manufacturer: 'Medgw Sim',
    model: 'CGM-14',
    serial: 'CGM-000001',
  },
};

/** The session's records as the gateway would hold them: simulator bytes → codec → points in UTC. */
function sessionPoints(cgm: SimCgm, sessionStartMs: number): CgmPoint[] {
  return cgm.records().map((record) => {
    const frame = encodeCgmMeasurement([record], cgm.e2eCrcEnabled);
    const decoded = decodeFrame('2AA7', frame);
    const m = decoded.measurements?.[0];
    const glucose = m?.components.find((c) => c.name === 'glucose');
    const offset = decoded.fields.records as { timeOffset: number }[];
    if (!glucose || !('value' in glucose.value)) throw new Error('a record without a glucose value');
    return {
      utcMs: sessionStartMs + (offset[0]?.timeOffset ?? 0) * 60_000,
      mgdl: glucose.value.value,
      quality: 'corrected' as const,
    };
  });
}

describe('the CGM summary formulas', () => {
  it('GMI = 3.31 + 0.02392 × mean glucose: the values Bergenstal et al. (Diabetes Care 2018) tabulate', () => {
    const table: [number, number][] = [
      [100, 5.7],
      [125, 6.3],
      [150, 6.9],
      [175, 7.5],
      [200, 8.1],
      [250, 9.3],
      [300, 10.5],
      [350, 11.7],
    ];
    for (const [mean, gmi] of table) expect(Number(gmiFromMean(mean).toFixed(1))).toBe(gmi);
  });

  it('refuses a period with fewer than 70 % of the expected readings, and counts only trusted times inside it', () => {
    const end = Date.UTC(2026, 10, 30);
    const every5 = (days: number, from = end - days * DAY) =>
      Array.from({ length: (days * 1440) / 5 }, (_, i) => ({ utcMs: from + i * 300_000, mgdl: 120 }));
    // 9 of 14 days: 64 %.
    const short = summarizeCgm(every5(9), { endMs: end, days: 14, intervalMinutes: 5 });
    expect(short).toMatchObject({ code: 'MEDGW_ERR_CGM_INSUFFICIENT_DATA', points: 2592 });
    // 10 of 14 days: 71 %, enough.
    const enough = summarizeCgm(every5(10), { endMs: end, days: 14, intervalMinutes: 5 });
    expect(isCgmSummary(enough) && enough.meanMgdl).toBe(120);
    // Untrusted times, and points outside the period, do not count.
    const outside = [
      ...every5(14).map((p) => ({ ...p, quality: 'untrusted' as const })),
      { utcMs: end, mgdl: 400 },
      { utcMs: end - 14 * DAY - 1, mgdl: 400 },
    ];
    expect(summarizeCgm(outside, { endMs: end, days: 14, intervalMinutes: 5 })).toMatchObject({ points: 0 });
  });

  it('gives the same id to the same period of the same device, and another to any other', () => {
    const end = Date.UTC(2026, 10, 30);
    const a = cgmSummaryId('00-1B-DC-FF-FE-0C-61-01', 'cgm-mean-glucose', 14, end);
    expect(cgmSummaryId('00-1B-DC-FF-FE-0C-61-01', 'cgm-mean-glucose', 14, end)).toBe(a);
    expect(a).toMatch(/^s1-[0-9a-f]{32}$/);
    expect(cgmSummaryId('00-1B-DC-FF-FE-0C-61-01', 'glucose-management-indicator', 14, end)).not.toBe(a);
    expect(cgmSummaryId('00-1B-DC-FF-FE-0C-61-01', 'cgm-mean-glucose', 7, end)).not.toBe(a);
    expect(cgmSummaryId('00-1B-DC-FF-FE-0C-61-01', 'cgm-mean-glucose', 14, end + DAY)).not.toBe(a);
    expect(cgmSummaryId('00-1B-DC-FF-FE-0C-61-02', 'cgm-mean-glucose', 14, end)).not.toBe(a);
  });
});

describe('a 14-day simulated session', () => {
  let side: NationalSide;
  beforeAll(async () => {
    side = await startNationalSide();
    await side.link('marie', 'marie.martin');
  }, 60_000);
  afterAll(async () => {
    await side?.close();
  });

  it('summarizes to the mean and GMI of the values the sensor took, and MES files both with 14 days', async () => {
    // The session started 14 days before the end of the period, to the minute: 4,032 records.
    const now = Date.UTC(2026, 10, 30, 0, 0);
    const cgm = new SimCgm({ address: 'c0:11:22:33:44:66', sessionMinutes: 14 * 1440 - 1 });
    cgm.useClock(() => now - 1);
    const start = now - 1 - (14 * 1440 - 1) * 60_000;
    const points = sessionPoints(cgm, start);
    expect(points).toHaveLength(4032);

    // What the sensor measured, from the simulator's own glucose curve (not from the decoded points).
    let sum = 0;
    for (let minute = 0; minute < 14 * 1440; minute += 5) sum += defaultGlucose(minute);
    const mean = sum / 4032;

    const summary = summarizeCgm(points, { endMs: now, days: 14, intervalMinutes: 5 });
    if (!isCgmSummary(summary)) throw new Error(summary.reason);
    expect(summary.points).toBe(4032);
    expect(summary.coverage).toBe(1);
    expect(summary.meanMgdl).toBe(Math.round(mean));
    expect(summary.gmiPercent).toBe(Math.round((3.31 + 0.02392 * mean) * 10) / 10);

    const client = side.client();
    for (const observation of cgmSummaryObservations(summary)) {
      const id = cgmSummaryId(CGM_DEVICE.identity.systemId, observation.kind as 'cgm-mean-glucose', 14, now);
      const reading: Omit<BridgeReading, 'patient'> = { id, observation, device: CGM_DEVICE };
      const outcome = await client.send('marie', reading);
      expect(outcome).toMatchObject({ status: 'delivered', httpStatus: 200 });
    }
    // A summary that does not say its period is never sent: MES requires the number of days.
    const [first] = cgmSummaryObservations(summary);
    if (!first) throw new Error('no observation');
    const { periodDays: _, ...noPeriod } = first.context ?? {};
    const refused = await client.send('marie', {
      id: 's1-no-period',
      observation: { ...first, context: noPeriod },
      device: CGM_DEVICE,
    });
    expect(refused).toMatchObject({ status: 'dead-letter', code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' });
    const filed = side.sandbox.observations().filter((o) => o.code === 'MED-969' || o.code === 'MED-972');
    expect(filed.map((o) => o.code).sort()).toEqual(['MED-969', 'MED-972']);
    expect(filed.every((o) => o.duplicateOf === undefined)).toBe(true);
  });

  it('the Bundle carries the number of days (GEN-276 "14j"), the LOINC second, no meal moment, a CGM device', () => {
    const now = Date.UTC(2026, 10, 30);
    const [mean] = cgmSummaryObservations({
      startMs: now - 14 * DAY,
      endMs: now,
      days: 14,
      points: 4032,
      coverage: 1,
      meanMgdl: 131,
      gmiPercent: 6.4,
    });
    if (!mean) throw new Error('no observation');
    const client = side.client();
    const bundle = client.bundleFor(
      { id: 's1-test', observation: mean, device: CGM_DEVICE },
      {
        accessToken: '-',
        idToken: '-',
        idPe: 'PE-SBX-0001',
        pairingOid: '1.2.250.1.213.1.4.8',
        solutionOid: SOLUTION_OID,
      },
    );
    const json = JSON.parse(bundle) as { entry: { resource: Record<string, unknown> }[] };
    const obs = json.entry.find((e) => e.resource.resourceType === 'Observation')?.resource as {
      code: { coding: { system: string; code: string }[] };
      extension: { url: string; valueCodeableConcept?: { coding: { code: string }[] } }[];
      valueQuantity: { value: number; code: string };
      effectiveDateTime: string;
    };
    expect(obs.code.coding.map((c) => c.code)).toEqual(['MED-969', '97507-8']);
    expect(obs.extension).toHaveLength(1);
    expect(obs.extension[0]?.url).toMatch(/mesures-number-of-days$/);
    expect(obs.extension[0]?.valueCodeableConcept?.coding[0]?.code).toBe('GEN-276');
    expect(obs.valueQuantity).toMatchObject({ value: 131, code: 'mg/dL' });
    expect(obs.effectiveDateTime).toBe('2026-11-30T00:00:00.000Z');
    const device = json.entry.find((e) => e.resource.resourceType === 'Device')?.resource as {
      specialization?: { systemType: { coding: { code: string }[] } }[];
    };
    expect(device.specialization?.[0]?.systemType.coding[0]?.code).toBe('528409');
  });
});
