import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { bloodPressureFeature } from './blood-pressure-feature.ts';

describe('Blood Pressure Feature 0x2A49', () => {
  it('names each bit 0–8 on its own', () => {
    const names: string[] = [];
    for (let bit = 0; bit < 9; bit++) {
      const f = bloodPressureFeature.decode(Uint8Array.of((1 << bit) & 0xff, (1 << bit) >> 8));
      const set = Object.entries(f).filter(([, v]) => v);
      expect(set).toHaveLength(1);
      names.push(set[0]![0]);
    }
    expect(names).toEqual([
      'bodyMovementDetectionSupported',
      'cuffFitDetectionSupported',
      'irregularPulseDetectionSupported',
      'pulseRateRangeDetectionSupported',
      'measurementPositionDetectionSupported',
      'multipleBondsSupported',
      'e2eCrcSupported',
      'userDataServiceSupported',
      'userFacingTimeSupported',
    ]);
  });

  it('accepts reserved bits only under the ignore-reserved-flags quirk', () => {
    const bytes = Uint8Array.of(0x01, 0x80);
    expect(() => bloodPressureFeature.decode(bytes)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    expect(
      bloodPressureFeature.decode(bytes, new Set(['ignore-reserved-flags'])).bodyMovementDetectionSupported,
    ).toBe(true);
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 }), (bytes) => {
        try {
          bloodPressureFeature.decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
