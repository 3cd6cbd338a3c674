import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import {
  BP_QUIRKS,
  bloodPressureMeasurement,
  IGNORE_RESERVED_FLAGS,
  QUIRK_PULSE_STATUS_BIG_ENDIAN,
  QUIRK_USER_ID_WITHOUT_FLAG,
} from './blood-pressure-measurement.ts';

/** The quirk set the beurer-bm85 driver definition names (derdilla/blood-pressure-monitor-fl capture). */
const BEURER_BM85_QUIRKS: ReadonlySet<string> = new Set(BP_QUIRKS);

// Real Beurer BM85 captures: derdilla/blood-pressure-monitor-fl@17aba3d
// app/test/features/bluetooth/logic/characteristics/ble_measurement_data_test.dart
const BEURER_USER_0 = '56 6a 00 47 00 00 00 ea 07 08 0b 12 1f 00 00 3f 00 00 00';
const BEURER_USER_1 = '56 71 00 49 00 00 00 ea 07 08 0b 14 38 00 00 41 01 00 00';
const BEURER_HIGH_PULSE = '56 77 00 46 00 00 00 ea 07 08 0b 14 39 00 00 57 01 00 40';

describe('Blood Pressure Measurement 0x2A35', () => {
  it('decodes the Beurer BM85 captures directly with the beurer-bm85 quirk set', () => {
    const a = bloodPressureMeasurement.decode(parseHex(BEURER_USER_0), BEURER_BM85_QUIRKS);
    expect([a.systolic, a.diastolic, a.pulseRate]).toEqual([
      { mantissa: 106, exponent: 0, value: 106 },
      { mantissa: 71, exponent: 0, value: 71 },
      { mantissa: 63, exponent: 0, value: 63 },
    ]);
    expect(a.userId).toBe(0);
    expect(a.timeStamp).toEqual({ year: 2026, month: 8, day: 11, hours: 18, minutes: 31, seconds: 0 });
    const b = bloodPressureMeasurement.decode(parseHex(BEURER_USER_1), BEURER_BM85_QUIRKS);
    expect(b.userId).toBe(1);
    expect(b.pulseRate).toEqual({ mantissa: 65, exponent: 0, value: 65 });
    // Status `00 40` read big-endian is bit 6, reserved: ignored under the quirk, as the app does.
    const c = bloodPressureMeasurement.decode(parseHex(BEURER_HIGH_PULSE), BEURER_BM85_QUIRKS);
    expect(c.pulseRate).toEqual({ mantissa: 87, exponent: 0, value: 87 });
    expect(c.measurementStatus).toEqual([]);
  });

  it('needs every Beurer quirk: each one missing gives a coded error or a different reading', () => {
    const bytes = parseHex(BEURER_USER_0);
    expect(() => bloodPressureMeasurement.decode(bytes)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    // Without user-id-without-flag the status is read one byte early and a byte is left over.
    expect(() =>
      bloodPressureMeasurement.decode(bytes, new Set([IGNORE_RESERVED_FLAGS, QUIRK_PULSE_STATUS_BIG_ENDIAN])),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TOO_LONG' }));
    // Without pulse-status-big-endian the pulse `00 3f` reads as 0x3F00: exponent 3, mantissa −256.
    const le = bloodPressureMeasurement.decode(
      bytes,
      new Set([IGNORE_RESERVED_FLAGS, QUIRK_USER_ID_WITHOUT_FLAG]),
    );
    expect(le.pulseRate).toEqual({ mantissa: -256, exponent: 3, value: -256000 });
  });

  it('turns the fields into one final blood-pressure measurement with flags and user index', () => {
    // Nordic onBloodPressureMeasurementReceived_full
    const f = bloodPressureMeasurement.decode(
      parseHex('1e 8a 00 58 00 78 00 00 00 04 11 14 29 3b 3c 00 01 27 00'),
    );
    const [m] = bloodPressureMeasurement.toMeasurements!(f);
    expect(m).toEqual({
      kind: 'blood-pressure',
      source: '2A35',
      deviceTime: { year: 0, month: 4, day: 17, hours: 20, minutes: 41, seconds: 59 },
      userIndex: 1,
      components: [
        { name: 'systolic', value: { mantissa: 138, exponent: 0, value: 138 }, unit: 'mm[Hg]' },
        { name: 'diastolic', value: { mantissa: 88, exponent: 0, value: 88 }, unit: 'mm[Hg]' },
        { name: 'mean-arterial', value: { mantissa: 120, exponent: 0, value: 120 }, unit: 'mm[Hg]' },
        { name: 'pulse', value: { mantissa: 60, exponent: 0, value: 60 }, unit: '/min' },
      ],
      flags: ['bodyMovement', 'cuffFitLoose', 'irregularPulse', 'improperMeasurementPosition'],
      final: true,
    });
  });

  it('keeps a NaN mean arterial pressure as data-absent and the kPa unit', () => {
    const f = bloodPressureMeasurement.decode(parseHex('01 bd f0 0b 00 ff 07'));
    expect(f.unit).toBe('kPa');
    expect(f.meanArterialPressure).toEqual({ absent: 'not-a-number', raw: 0x07ff });
  });

  it('refuses the reserved pulse-rate range 3 and reserved status bits', () => {
    expect(() => bloodPressureMeasurement.decode(parseHex('10 7c 00 56 00 61 00 18 00'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    expect(() => bloodPressureMeasurement.decode(parseHex('10 7c 00 56 00 61 00 00 01'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });

  it('arbitrary bytes decode or fail with a coded error only, with or without quirks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.subarray([...BP_QUIRKS]), (bytes, quirks) => {
        try {
          const f = bloodPressureMeasurement.decode(bytes, new Set(quirks));
          expect(bloodPressureMeasurement.toMeasurements!(f)[0]?.components.length).toBeGreaterThanOrEqual(3);
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
