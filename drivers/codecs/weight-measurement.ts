/**
 * Weight Measurement 0x2A9D (WSS v1.0, GSS "Weight Measurement"): flags, uint16 weight with a
 * resolution fixed by the unit flag (0.005 kg SI, 0.01 lb imperial), then Time Stamp, User ID and
 * BMI (0.1 kg/m²) + Height (0.001 m or 0.1 in) as announced. Weight 0xFFFF = "Measurement Unsuccessful".
 */
import type { CharacteristicCodec } from '../codec.ts';
import { decimal } from '../ieee11073.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, Measurement, MeasurementComponent, MedNumber } from '../types.ts';
import { refuseReservedBits } from './bits.ts';

export type WeightUnit = 'kg' | '[lb_av]';
export type HeightUnit = 'm' | '[in_i]';

export interface WeightMeasurementFields {
  readonly flags: number;
  /** 0xFFFF ("Measurement Unsuccessful") becomes `{ absent: 'error', raw: 65535 }`. */
  readonly weight: MedNumber;
  readonly weightUnit: WeightUnit;
  readonly timeStamp?: DeviceDateTime;
  /** 0xFF = unknown user. */
  readonly userId?: number;
  readonly bmi?: MedNumber;
  readonly height?: MedNumber;
  readonly heightUnit?: HeightUnit;
}

/** Flag bits 4–7 are RFU: bit 3 announces BMI and Height together (GSS 0x2A9D). */
const RESERVED_FLAGS = 0xf0;
const UNSUCCESSFUL = 0xffff;

export const weightMeasurement: CharacteristicCodec<WeightMeasurementFields> = {
  uuid: '2A9D',
  name: 'weight-measurement',
  spec: 'WSS v1.0 / GSS Weight Measurement (0x2A9D)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'Weight Measurement';
    const r = new ByteReader(bytes, what);
    const flags = r.u8('flags');
    refuseReservedBits(what, 'flags', flags, RESERVED_FLAGS, quirks);
    const imperial = (flags & 0x01) !== 0;
    const raw = r.u16('weight');
    // 0.005 kg steps are kept exact as mantissa raw×5, exponent −3; 0.01 lb steps as raw, exponent −2.
    const weight: MedNumber =
      raw === UNSUCCESSFUL ? { absent: 'error', raw } : imperial ? decimal(raw, -2) : decimal(raw * 5, -3);
    const out: {
      flags: number;
      weight: MedNumber;
      weightUnit: WeightUnit;
      timeStamp?: DeviceDateTime;
      userId?: number;
      bmi?: MedNumber;
      height?: MedNumber;
      heightUnit?: HeightUnit;
    } = { flags, weight, weightUnit: imperial ? '[lb_av]' : 'kg' };
    if (flags & 0x02) out.timeStamp = r.dateTime('timeStamp');
    if (flags & 0x04) out.userId = r.u8('userId');
    if (flags & 0x08) {
      out.bmi = decimal(r.u16('bmi'), -1);
      const height = r.u16('height');
      out.height = imperial ? decimal(height, -1) : decimal(height, -3);
      out.heightUnit = imperial ? '[in_i]' : 'm';
    }
    r.end();
    return out;
  },
  toMeasurements(f): Measurement[] {
    const components: MeasurementComponent[] = [{ name: 'weight', value: f.weight, unit: f.weightUnit }];
    if (f.height && f.heightUnit) components.push({ name: 'height', value: f.height, unit: f.heightUnit });
    if (f.bmi) components.push({ name: 'bmi', value: f.bmi, unit: 'kg/m2' });
    return [
      {
        kind: 'body-weight',
        source: '2A9D',
        ...(f.timeStamp ? { deviceTime: f.timeStamp } : {}),
        ...(f.userId !== undefined ? { userIndex: f.userId } : {}),
        components,
        // WSS indicates only stabilized weights.
        final: true,
      },
    ];
  },
};
