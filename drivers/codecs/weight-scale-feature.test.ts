import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { weightScaleFeature } from './weight-scale-feature.ts';

function feature(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff);
}

describe('Weight Scale Feature 0x2A9E', () => {
  it('maps every weight resolution code to kg and lb steps (GSS table)', () => {
    const expected: [number, number][] = [
      [0.5, 1],
      [0.2, 0.5],
      [0.1, 0.2],
      [0.05, 0.1],
      [0.02, 0.05],
      [0.01, 0.02],
      [0.005, 0.01],
    ];
    expected.forEach(([kg, lb], i) => {
      const f = weightScaleFeature.decode(feature((i + 1) << 3));
      expect(f.weightMeasurementResolution).toEqual({
        si: { value: kg, unit: 'kg' },
        imperial: { value: lb, unit: '[lb_av]' },
      });
      expect(f.heightMeasurementResolution).toBeUndefined();
    });
  });

  it('maps every height resolution code to m and in steps', () => {
    const expected: [number, number][] = [
      [0.01, 1],
      [0.005, 0.5],
      [0.001, 0.1],
    ];
    expected.forEach(([m, inch], i) => {
      expect(weightScaleFeature.decode(feature((i + 1) << 7)).heightMeasurementResolution).toEqual({
        si: { value: m, unit: 'm' },
        imperial: { value: inch, unit: '[in_i]' },
      });
    });
    expect(() => weightScaleFeature.decode(feature(4 << 7))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        try {
          weightScaleFeature.decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
