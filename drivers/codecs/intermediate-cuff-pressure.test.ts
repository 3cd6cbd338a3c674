import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import { intermediateCuffPressure } from './intermediate-cuff-pressure.ts';

describe('Intermediate Cuff Pressure 0x2A36', () => {
  it('gives a non-final cuff-pressure reading, ignoring the unused diastolic and MAP slots', () => {
    // Nordic onIntermediateCuffPressureReceived_some, with NaN in the unused slots as a spec-faithful device sends
    const f = intermediateCuffPressure.decode(parseHex('15 6f f0 ff 07 ff 07 3c 00 12 00'));
    expect(f.currentCuffPressure).toEqual({ mantissa: 111, exponent: -1, value: 11.1 });
    expect(f).not.toHaveProperty('diastolic');
    const [m] = intermediateCuffPressure.toMeasurements!(f);
    expect(m?.final).toBe(false);
    expect(m?.kind).toBe('blood-pressure');
    expect(m?.components.map((c) => [c.name, c.unit])).toEqual([
      ['cuff-pressure', 'kPa'],
      ['pulse', '/min'],
    ]);
    expect(m?.flags).toEqual(['cuffFitLoose', 'pulseRateBelowLowerLimit']);
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          intermediateCuffPressure.toMeasurements!(intermediateCuffPressure.decode(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
