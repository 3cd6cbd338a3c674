import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import { weightMeasurement } from './weight-measurement.ts';

describe('Weight Measurement 0x2A9D', () => {
  it('decodes SI weight, time stamp, user id, BMI and height with exact decimals', () => {
    // flags 0x0E; weight 15000 × 0.005 = 75.000 kg; 2026-11-22 08:15:00; user 3; BMI 245 × 0.1; height 1750 × 0.001 m
    const f = weightMeasurement.decode(parseHex('0e 98 3a ea 07 0b 16 08 0f 00 03 f5 00 d6 06'));
    expect(f.weight).toEqual({ mantissa: 75000, exponent: -3, value: 75 });
    expect(f.weightUnit).toBe('kg');
    expect(f.timeStamp).toEqual({ year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 0 });
    expect(f.userId).toBe(3);
    expect(f.bmi).toEqual({ mantissa: 245, exponent: -1, value: 24.5 });
    expect(f.height).toEqual({ mantissa: 1750, exponent: -3, value: 1.75 });
    expect(f.heightUnit).toBe('m');
  });

  it('keeps the 0.005 kg step exact (raw 1 = 0.005 kg, raw 65534 = 327.670 kg)', () => {
    expect(weightMeasurement.decode(parseHex('00 01 00')).weight).toEqual({
      mantissa: 5,
      exponent: -3,
      value: 0.005,
    });
    expect(weightMeasurement.decode(parseHex('00 fe ff')).weight).toEqual({
      mantissa: 327670,
      exponent: -3,
      value: 327.67,
    });
  });

  it('reads imperial height in 0.1 in', () => {
    const f = weightMeasurement.decode(parseHex('09 54 3d f5 00 a8 02'));
    expect(f.weightUnit).toBe('[lb_av]');
    expect(f.height).toEqual({ mantissa: 680, exponent: -1, value: 68 });
    expect(f.heightUnit).toBe('[in_i]');
  });

  it('turns the fields into a final body-weight measurement with weight, height, bmi and user index', () => {
    const f = weightMeasurement.decode(parseHex('0e 98 3a ea 07 0b 16 08 0f 00 03 f5 00 d6 06'));
    const [m, ...rest] = weightMeasurement.toMeasurements!(f);
    expect(rest).toEqual([]);
    expect(m?.kind).toBe('body-weight');
    expect(m?.final).toBe(true);
    expect(m?.userIndex).toBe(3);
    expect(m?.deviceTime?.year).toBe(2026);
    expect(m?.components.map((c) => [c.name, c.unit])).toEqual([
      ['weight', 'kg'],
      ['height', 'm'],
      ['bmi', 'kg/m2'],
    ]);
  });

  it('carries an unsuccessful measurement as data-absent, never as 327.675 kg', () => {
    const [m] = weightMeasurement.toMeasurements!(weightMeasurement.decode(parseHex('00 ff ff')));
    expect(m?.components[0]?.value).toEqual({ absent: 'error', raw: 0xffff });
  });

  it('refuses trailing bytes and reserved flags, unless the reserved-flags quirk is set', () => {
    expect(() => weightMeasurement.decode(parseHex('00 b0 36 00'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TOO_LONG' }),
    );
    expect(() => weightMeasurement.decode(parseHex('80 b0 36'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    expect(weightMeasurement.decode(parseHex('80 b0 36'), new Set(['ignore-reserved-flags'])).weight).toEqual(
      {
        mantissa: 70000,
        exponent: -3,
        value: 70,
      },
    );
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          const f = weightMeasurement.decode(bytes);
          expect(weightMeasurement.toMeasurements!(f)).toHaveLength(1);
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
