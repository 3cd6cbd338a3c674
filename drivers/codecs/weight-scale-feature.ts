/**
 * Weight Scale Feature 0x2A9E (WSS v1.0, GSS "Weight Scale Feature"): uint32; bit 0 Time Stamp,
 * bit 1 Multiple Users, bit 2 BMI supported; bits 3–6 weight resolution code (0 not specified, 1–7,
 * 8–15 RFU); bits 7–9 height resolution code (0 not specified, 1–3, 4–7 RFU); bits 10–31 RFU.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { refuseReservedBits, reservedValue } from './bits.ts';

export interface Resolution {
  readonly value: number;
  readonly unit: string;
}

/** A resolution in both unit systems: the unit flag of each measurement picks one. */
export interface ResolutionPair {
  readonly si: Resolution;
  readonly imperial: Resolution;
}

export interface WeightScaleFeatureFields {
  readonly timeStampSupported: boolean;
  readonly multipleUsersSupported: boolean;
  readonly bmiSupported: boolean;
  /** Absent when the scale leaves it "not specified" (code 0). */
  readonly weightMeasurementResolution?: ResolutionPair;
  readonly heightMeasurementResolution?: ResolutionPair;
}

// [kg, lb] per weight resolution code 1..7.
const WEIGHT: readonly (readonly [number, number])[] = [
  [0.5, 1],
  [0.2, 0.5],
  [0.1, 0.2],
  [0.05, 0.1],
  [0.02, 0.05],
  [0.01, 0.02],
  [0.005, 0.01],
];
// [m, in] per height resolution code 1..3.
const HEIGHT: readonly (readonly [number, number])[] = [
  [0.01, 1],
  [0.005, 0.5],
  [0.001, 0.1],
];

export const weightScaleFeature: CharacteristicCodec<WeightScaleFeatureFields> = {
  uuid: '2A9E',
  name: 'weight-scale-feature',
  spec: 'WSS v1.0 / GSS Weight Scale Feature (0x2A9E)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'Weight Scale Feature';
    const r = new ByteReader(bytes, what);
    const value = r.u32('weightScaleFeature');
    r.end();
    refuseReservedBits(what, 'weightScaleFeature', value, 0xfffffc00, quirks);
    const weightCode = (value >>> 3) & 0x0f;
    const heightCode = (value >>> 7) & 0x07;
    const out: {
      timeStampSupported: boolean;
      multipleUsersSupported: boolean;
      bmiSupported: boolean;
      weightMeasurementResolution?: ResolutionPair;
      heightMeasurementResolution?: ResolutionPair;
    } = {
      timeStampSupported: (value & 0x01) !== 0,
      multipleUsersSupported: (value & 0x02) !== 0,
      bmiSupported: (value & 0x04) !== 0,
    };
    if (weightCode !== 0) {
      const w = WEIGHT[weightCode - 1];
      if (!w) throw reservedValue(what, 'weightMeasurementResolution', weightCode);
      out.weightMeasurementResolution = {
        si: { value: w[0], unit: 'kg' },
        imperial: { value: w[1], unit: '[lb_av]' },
      };
    }
    if (heightCode !== 0) {
      const h = HEIGHT[heightCode - 1];
      if (!h) throw reservedValue(what, 'heightMeasurementResolution', heightCode);
      out.heightMeasurementResolution = {
        si: { value: h[0], unit: 'm' },
        imperial: { value: h[1], unit: '[in_i]' },
      };
    }
    return out;
  },
};
