/**
 * Every defined bit of every status field has exactly one decision (drivers/normalize/status.ts), and
 * each decision holds from the bytes to the Bundle: a frame with the bit set (simulator encoders, written
 * apart from the decoders) → decode → normalize → Bundle is either carried in the Bundle, quarantined with
 * the expected reason, intermediate, or a clock matter: never a plain `final` value that hides the bit.
 */
import { describe, expect, it } from 'vitest';
import { type BridgeReading, buildBundle } from '../cloud-bridge/bundle.ts';
import { toFhirJson } from '../cloud-bridge/fhir-json.ts';
import {
  type CgmMeasurementFields,
  cgmMeasurementToMeasurements,
} from '../drivers/codecs/cgm-measurement.ts';
import { decodeFrame } from '../drivers/decode.ts';
import { normalize } from '../drivers/normalize/index.ts';
import {
  STATUS_COMBINATIONS,
  STATUS_DECISIONS,
  STATUS_FIELDS,
  type StatusBitDecision,
  type StatusFieldId,
} from '../drivers/normalize/status.ts';
import type { CoincidentTime, DeviceDateTime, Measurement, Observation } from '../drivers/types.ts';
import { VOCABULARY } from '../drivers/vocabulary.ts';
import { ERROR_CATALOGUE } from '../kernel/errors.ts';
import { encodeCgmMeasurement } from '../simulators/ble/cgm.ts';
import { encodeBloodPressure } from '../simulators/ble/cuff.ts';
import { encodeGlucoseMeasurement, mgdl } from '../simulators/ble/glucometer.ts';
import { encodeSpotCheck, type SpotCheckRecord } from '../simulators/ble/oximeter.ts';

const TIME: DeviceDateTime = { year: 2026, month: 11, day: 20, hours: 8, minutes: 30, seconds: 0 };
/** The device clock read beside the gateway's one day later, 2 minutes slow: every reading can be corrected. */
const COINCIDENT: CoincidentTime = {
  device: { ...TIME, day: 21 },
  gatewayMs: Date.UTC(2026, 10, 21, 8, 32, 0) - 3_600_000,
};
const SOLUTION = '2.25.71922510045900526679301521263764504793';
const PAIRING = '2.25.223577281493925814735310533247560057336';

/** A CGM session started 30 minutes before TIME: a record at Time Offset 30 is taken at TIME. */
const CGM_SESSION_START: DeviceDateTime = { ...TIME, minutes: 0 };

/**
 * Every CGM reading is interstitial and held as a spot value (MEDGW_ERR_GLUCOSE_INTERSTITIAL): its bits
 * are checked on the held observation (deviceStatus, the hold a status bit puts first, the time quality).
 */
const heldAsInterstitial = (field: StatusFieldId) => field === 'cgm-sensor-status';

/** The raw field value that sets the named flag of a field (bit i, or the BP pulse-range two-bit field). */
function rawFor(d: StatusBitDecision): number {
  if (d.bit === '3-4 = 1') return 0x08;
  if (d.bit === '3-4 = 2') return 0x10;
  return 1 << Number(d.bit);
}

/** A PLX Spot-Check of 97 % and 66 /min at TIME, with the given status fields. */
const spotCheck = (status: Partial<SpotCheckRecord>) =>
  encodeSpotCheck({
    spo2: { mantissa: 97, exponent: 0 },
    pulse: { mantissa: 66, exponent: 0 },
    time: TIME,
    ...status,
  });

/** A real frame of the field's characteristic with `raw` in the status field. */
function frame(field: StatusFieldId, raw: number): { characteristic: string; bytes: Buffer } {
  switch (field) {
    case 'gls-sensor-status':
      return {
        characteristic: '2A18',
        bytes: encodeGlucoseMeasurement({
          sequence: 7,
          baseTime: TIME,
          concentration: mgdl(105),
          unit: 'kg/L',
          type: 1,
          location: 1,
          sensorStatus: raw,
        }),
      };
    case 'bls-measurement-status':
      return {
        characteristic: '2A35',
        bytes: encodeBloodPressure({
          unit: 'mmHg',
          systolic: { mantissa: 128, exponent: 0 },
          diastolic: { mantissa: 82, exponent: 0 },
          meanArterial: { mantissa: 97, exponent: 0 },
          pulse: { mantissa: 64, exponent: 0 },
          time: TIME,
          status: raw,
        }),
      };
    case 'cgm-sensor-status':
      return {
        characteristic: '2AA7',
        bytes: encodeCgmMeasurement(
          [
            {
              timeOffset: 30,
              glucose: 105,
              status: raw & 0xff,
              calTemp: (raw >> 8) & 0xff,
              warning: raw >> 16,
            },
          ],
          true,
        ),
      };
    case 'plx-measurement-status':
      return { characteristic: '2A5E', bytes: spotCheck({ measurementStatus: raw }) };
    case 'plx-device-sensor-status':
      return { characteristic: '2A5E', bytes: spotCheck({ deviceStatus: raw }) };
    case 'plx-flags':
      return { characteristic: '2A5E', bytes: spotCheck({ clockNotSet: raw !== 0 }) };
  }
}

/** Decode → normalize (a fasting moment for glucose, stated beside the record as a context would) → observations. */
function observations(
  field: StatusFieldId,
  raw: number,
): { measurements: Measurement[]; obs: Observation[] } {
  const f = frame(field, raw);
  const decoded = decodeFrame(f.characteristic, f.bytes);
  // A CGM record is dated by the session start it is read with (Session Start Time 0x2AAA).
  const read =
    f.characteristic === '2AA7'
      ? cgmMeasurementToMeasurements(decoded.fields as unknown as CgmMeasurementFields, CGM_SESSION_START)
      : (decoded.measurements ?? []);
  const measurements = read.map((m) =>
    m.kind === 'glucose' ? { ...m, context: { ...m.context, meal: 'fasting' } } : m,
  );
  return {
    measurements,
    obs: measurements.flatMap((m) => normalize(m, { coincident: COINCIDENT })),
  };
}

const forwarded = (obs: Observation[]) => obs.filter((o) => VOCABULARY[o.kind].forwarded);

function bundleText(o: Observation): string {
  const reading: BridgeReading = {
    id: 'r-status',
    observation: o,
    device: { id: 'dev-1' },
    patient: { idPe: 'PE-1', oid: PAIRING },
  };
  return toFhirJson(buildBundle(reading, { solutionOid: SOLUTION }));
}

describe('the status-bit decision table', () => {
  it('every bit every codec names has exactly one decision, and every decision names a real bit', () => {
    for (const [id, field] of Object.entries(STATUS_FIELDS)) {
      for (const name of field.names) {
        const decisions = STATUS_DECISIONS.filter((d) => d.field === id && d.flag === name);
        expect(decisions, `${id} ${name}`).toHaveLength(1);
      }
    }
    for (const d of STATUS_DECISIONS) {
      expect(
        (STATUS_FIELDS[d.field].names as readonly string[]).includes(d.flag),
        `${d.field} ${d.flag}`,
      ).toBe(true);
    }
    expect(new Set(STATUS_DECISIONS.map((d) => d.flag)).size).toBe(STATUS_DECISIONS.length);
  });

  it('a carried bit has a coding, a quarantined one a catalogued code and a reason', () => {
    for (const d of STATUS_DECISIONS) {
      if (d.decision === 'carried') expect(d.coding?.display, d.flag).toBeTruthy();
      if (d.decision === 'quarantined') {
        expect(Object.hasOwn(ERROR_CATALOGUE, d.quarantine?.code ?? ''), d.flag).toBe(true);
        expect(d.quarantine?.reason, d.flag).toBeTruthy();
      }
    }
  });

  describe('each bit alone, from the bytes to the Bundle', () => {
    for (const d of STATUS_DECISIONS) {
      it(`${d.field} bit ${d.bit} ${d.flag}: ${d.decision}`, () => {
        const { measurements, obs } = observations(d.field, rawFor(d));
        expect(measurements.some((m) => m.flags?.includes(d.flag))).toBe(true);
        const out = forwarded(obs);
        switch (d.decision) {
          case 'carried': {
            expect(out.length).toBeGreaterThan(0);
            if (heldAsInterstitial(d.field)) {
              for (const o of out) {
                expect(o.quarantine?.code).toBe('MEDGW_ERR_GLUCOSE_INTERSTITIAL');
                expect(o.deviceStatus).toContainEqual(d.coding);
              }
              break;
            }
            for (const o of out) {
              expect(o.quarantine).toBeUndefined();
              const text = bundleText(o);
              expect(text).toContain(
                d.coding?.code ? `"code":"${d.coding.code}"` : `"text":"${d.coding?.display}"`,
              );
            }
            break;
          }
          case 'quarantined':
            expect(out.length).toBeGreaterThan(0);
            for (const o of out) {
              expect(o.quarantine?.code).toBe(d.quarantine?.code);
              expect(o.quarantine?.reason).toContain(d.quarantine?.reason);
              expect(() => bundleText(o)).toThrow(
                expect.objectContaining({ code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' }),
              );
            }
            break;
          case 'not-final':
            expect(obs).toEqual([]);
            break;
          case 'time':
            // The clock is not trusted: the coincident timestamp does not correct the reading, which is
            // held for a person to confirm its time rather than sent undated.
            expect(out.length).toBeGreaterThan(0);
            for (const o of out) {
              expect(o.time.quality).not.toMatch(/^(corrected|synced)$/);
              if (heldAsInterstitial(d.field)) {
                // Held already as interstitial; the time is still not corrected by the clock in doubt.
                expect(o.quarantine?.code).toBe('MEDGW_ERR_GLUCOSE_INTERSTITIAL');
                continue;
              }
              expect(o.quarantine?.code).toBe('MEDGW_ERR_TIME_UNCHECKED');
              expect(o.quarantine?.reason).toContain(d.flag);
            }
            break;
        }
      });
    }
  });

  it('the same frames with no status bit are plain, corrected and sendable (the control)', () => {
    for (const field of Object.keys(STATUS_FIELDS) as StatusFieldId[]) {
      const out = forwarded(observations(field, 0).obs);
      expect(out.length, field).toBeGreaterThan(0);
      for (const o of out) {
        expect(o.deviceStatus, field).toBeUndefined();
        expect(o.time.quality, field).toBe('corrected');
        if (heldAsInterstitial(field)) {
          expect(o.quarantine?.code, field).toBe('MEDGW_ERR_GLUCOSE_INTERSTITIAL');
          continue;
        }
        expect(o.quarantine, field).toBeUndefined();
        expect(() => bundleText(o)).not.toThrow();
      }
    }
  });

  it('every carried bit of a field at once: all of them in the Bundle', () => {
    const fields = new Set(STATUS_DECISIONS.map((d) => d.field));
    for (const field of fields) {
      const carried = STATUS_DECISIONS.filter((d) => d.field === field && d.decision === 'carried');
      if (carried.length === 0) continue;
      // The BP pulse range is one two-bit field: above and below cannot both be set.
      const raw = carried.filter((d) => d.bit !== '3-4 = 2').reduce((acc, d) => acc | rawFor(d), 0);
      const quarantinedByCombination = STATUS_COMBINATIONS.some((c) =>
        c.flags.every((f) => carried.some((d) => d.flag === f)),
      );
      const out = forwarded(observations(field, raw).obs);
      expect(out.length, field).toBeGreaterThan(0);
      for (const o of out) {
        if (quarantinedByCombination) continue;
        if (heldAsInterstitial(field)) {
          for (const d of carried) expect(o.deviceStatus, `${field} ${d.flag}`).toContainEqual(d.coding);
          continue;
        }
        const text = bundleText(o);
        for (const d of carried.filter((x) => x.bit !== '3-4 = 2')) {
          expect(text, `${field} ${d.flag}`).toContain(
            d.coding?.code ? `"code":"${d.coding.code}"` : `"text":"${d.coding?.display}"`,
          );
        }
      }
    }
  });

  it('every bit of a field at once: held, and the reason names every bit that holds it', () => {
    for (const field of ['gls-sensor-status', 'plx-device-sensor-status', 'cgm-sensor-status'] as const) {
      const all = STATUS_DECISIONS.filter((d) => d.field === field);
      const raw = all.reduce((acc, d) => acc | rawFor(d), 0);
      const out = forwarded(observations(field, raw).obs);
      expect(out.length).toBeGreaterThan(0);
      for (const o of out) {
        expect(o.quarantine?.code).toBe('MEDGW_ERR_DEVICE_REPORTED_INVALID');
        for (const d of all.filter((x) => x.decision === 'quarantined')) {
          expect(o.quarantine?.reason).toContain(d.quarantine?.reason.replace('the device reported: ', ''));
        }
      }
    }
  });

  it('questionable with low perfusion: quarantined together, carried apart', () => {
    const q = 1 << 14;
    const lowPerfusion = 1 << 5;
    const f = encodeSpotCheck({
      spo2: { mantissa: 91, exponent: 0 },
      pulse: { mantissa: 70, exponent: 0 },
      time: TIME,
      measurementStatus: q,
      deviceStatus: lowPerfusion,
    });
    const both = forwarded(
      (decodeFrame('2A5E', f).measurements ?? []).flatMap((m) => normalize(m, { coincident: COINCIDENT })),
    );
    expect(both.length).toBe(2);
    for (const o of both) expect(o.quarantine?.reason).toMatch(/questionable measurement with low perfusion/);
    expect(forwarded(observations('plx-measurement-status', q).obs)[0]?.quarantine).toBeUndefined();
    expect(
      forwarded(observations('plx-device-sensor-status', lowPerfusion).obs)[0]?.quarantine,
    ).toBeUndefined();
  });
});
