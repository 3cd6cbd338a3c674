import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import { temperatureMeasurement } from './temperature-measurement.ts';

describe('Temperature Measurement 0x2A1C', () => {
  it('names every temperature type 1–9 and carries it as the body site', () => {
    const sites = [];
    for (let type = 1; type <= 9; type++) {
      // 36.4 °C (FLOAT 0xFF00016C) with type
      const f = temperatureMeasurement.decode(Uint8Array.of(0x04, 0x6c, 0x01, 0x00, 0xff, type));
      const [m] = temperatureMeasurement.toMeasurements!(f);
      expect(m?.context?.bodySite).toBe(f.temperatureType);
      sites.push(f.temperatureType);
    }
    expect(sites).toEqual([
      'armpit',
      'body',
      'ear',
      'finger',
      'gastroIntestinalTract',
      'mouth',
      'rectum',
      'toe',
      'tympanum',
    ]);
    expect(() => temperatureMeasurement.decode(Uint8Array.of(0x04, 0x6c, 0x01, 0x00, 0xff, 10))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });

  it('reads Fahrenheit with its precision: 98.60 °F', () => {
    // 9860 × 10^-2 = 0xFE002684
    const f = temperatureMeasurement.decode(parseHex('01 84 26 00 fe'));
    const [m] = temperatureMeasurement.toMeasurements!(f);
    expect(m?.components).toEqual([
      { name: 'temperature', value: { mantissa: 9860, exponent: -2, value: 98.6 }, unit: '[degF]' },
    ]);
    expect(m?.final).toBe(true);
    expect(m?.context).toBeUndefined();
  });

  it('keeps a FLOAT NaN as data-absent', () => {
    expect(temperatureMeasurement.decode(parseHex('00 ff ff 7f 00')).temperature).toEqual({
      absent: 'not-a-number',
      raw: 0x007fffff,
    });
  });

  it('decodes FLOAT exponents down to −128 without a range error', () => {
    expect(temperatureMeasurement.decode(parseHex('00 01 00 00 80')).temperature).toEqual({
      mantissa: 1,
      exponent: -128,
      value: 1e-128,
    });
    expect(temperatureMeasurement.decode(parseHex('00 ff ff ff 9c')).temperature).toEqual({
      mantissa: -1,
      exponent: -100,
      value: -1e-100,
    });
  });

  it('refuses an impossible time stamp', () => {
    expect(() => temperatureMeasurement.decode(parseHex('02 6c 01 00 ff dc 07 0d 05 0b 32 1b'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (bytes) => {
        try {
          temperatureMeasurement.toMeasurements!(temperatureMeasurement.decode(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
