/**
 * Body Composition Measurement 0x2A9C (BCS v1.0 §3.2, GSS "Body Composition Measurement"): uint16 flags,
 * then Body Fat Percentage (uint16, 0.1 %; 0xFFFF = "Measurement Unsuccessful"), then, each when its flag
 * bit is set and in this order:
 *
 * | bit | field | size | resolution |
 * |---|---|---|---|
 * | 0 | measurement units: 0 SI (kg, m), 1 imperial (lb, in) | — | — |
 * | 1 | Time Stamp (Date Time) | 7 | — |
 * | 2 | User ID (0xFF unknown user) | 1 | — |
 * | 3 | Basal Metabolism | 2 | 1 kJ |
 * | 4 | Muscle Percentage | 2 | 0.1 % |
 * | 5 | Muscle Mass | 2 | 0.005 kg / 0.01 lb |
 * | 6 | Fat Free Mass | 2 | 0.005 kg / 0.01 lb |
 * | 7 | Soft Lean Mass | 2 | 0.005 kg / 0.01 lb |
 * | 8 | Body Water Mass | 2 | 0.005 kg / 0.01 lb |
 * | 9 | Impedance | 2 | 0.1 Ω |
 * | 10 | Weight | 2 | 0.005 kg / 0.01 lb |
 * | 11 | Height | 2 | 0.001 m / 0.1 in |
 * | 12 | Multiple Packet Measurement: the measurement continues in the next indication | — | — |
 * | 13-15 | reserved | — | — |
 *
 * What travels as a reading (toMeasurements): the body composition values, each a kind of its own that
 * stays local (drivers/vocabulary.ts: Mon espace santé takes none of them). The Weight and Height a scale
 * repeats here are the ones its Weight Measurement 0x2A9D carries (BCS v1.0 §2: the body composition
 * analyzer also instantiates the Weight Scale Service), so they are decoded but not made readings twice.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { decimal } from '../ieee11073.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, Measurement, MeasurementComponent, MedNumber } from '../types.ts';
import { refuseReservedBits } from './bits.ts';

export type BodyMassUnit = 'kg' | '[lb_av]';

export interface BodyCompositionFields {
  readonly flags: number;
  /** 0xFFFF ("Measurement Unsuccessful") becomes `{ absent: 'error', raw: 65535 }`. */
  readonly bodyFat: MedNumber;
  /** The unit of every mass field. */
  readonly massUnit: BodyMassUnit;
  readonly timeStamp?: DeviceDateTime;
  /** 0xFF = unknown user. */
  readonly userId?: number;
  /** kJ (per day: the energy the body spends at rest). */
  readonly basalMetabolism?: MedNumber;
  readonly musclePercentage?: MedNumber;
  readonly muscleMass?: MedNumber;
  readonly fatFreeMass?: MedNumber;
  readonly softLeanMass?: MedNumber;
  readonly bodyWaterMass?: MedNumber;
  /** Ω. */
  readonly impedance?: MedNumber;
  readonly weight?: MedNumber;
  readonly height?: MedNumber;
  readonly heightUnit?: 'm' | '[in_i]';
  /** Flag bit 12: this indication holds part of the measurement, the rest follows. */
  readonly multiplePacket: boolean;
}

const RESERVED_FLAGS = 0xe000;
const UNSUCCESSFUL = 0xffff;

const MASS_FIELDS = [
  [5, 'muscleMass'],
  [6, 'fatFreeMass'],
  [7, 'softLeanMass'],
  [8, 'bodyWaterMass'],
] as const;

export const bodyCompositionMeasurement: CharacteristicCodec<BodyCompositionFields> = {
  uuid: '2A9C',
  name: 'body-composition-measurement',
  spec: 'BCS v1.0 §3.2 / GSS Body Composition Measurement (0x2A9C)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'Body Composition Measurement';
    const r = new ByteReader(bytes, what);
    const flags = r.u16('flags');
    refuseReservedBits(what, 'flags', flags, RESERVED_FLAGS, quirks);
    const imperial = (flags & 0x0001) !== 0;
    // 0.005 kg steps are kept exact as mantissa raw×5, exponent −3; 0.01 lb steps as raw, exponent −2.
    const mass = (raw: number): MedNumber => (imperial ? decimal(raw, -2) : decimal(raw * 5, -3));
    const fat = r.u16('bodyFat');
    const out: { -readonly [K in keyof BodyCompositionFields]: BodyCompositionFields[K] } = {
      flags,
      bodyFat: fat === UNSUCCESSFUL ? { absent: 'error', raw: fat } : decimal(fat, -1),
      massUnit: imperial ? '[lb_av]' : 'kg',
      multiplePacket: (flags & 0x1000) !== 0,
    };
    if (flags & 0x0002) out.timeStamp = r.dateTime('timeStamp');
    if (flags & 0x0004) out.userId = r.u8('userId');
    if (flags & 0x0008) out.basalMetabolism = decimal(r.u16('basalMetabolism'), 0);
    if (flags & 0x0010) out.musclePercentage = decimal(r.u16('musclePercentage'), -1);
    for (const [bit, field] of MASS_FIELDS) if (flags & (1 << bit)) out[field] = mass(r.u16(field));
    if (flags & 0x0200) out.impedance = decimal(r.u16('impedance'), -1);
    if (flags & 0x0400) out.weight = mass(r.u16('weight'));
    if (flags & 0x0800) {
      const height = r.u16('height');
      out.height = imperial ? decimal(height, -1) : decimal(height, -3);
      out.heightUnit = imperial ? '[in_i]' : 'm';
    }
    r.end();
    return out;
  },
  toMeasurements(f): Measurement[] {
    const components: MeasurementComponent[] = [{ name: 'body-fat', value: f.bodyFat, unit: '%' }];
    const add = (name: MeasurementComponent['name'], value: MedNumber | undefined, unit: string) => {
      if (value) components.push({ name, value, unit });
    };
    add('muscle-percentage', f.musclePercentage, '%');
    add('muscle-mass', f.muscleMass, f.massUnit);
    add('fat-free-mass', f.fatFreeMass, f.massUnit);
    add('soft-lean-mass', f.softLeanMass, f.massUnit);
    add('body-water-mass', f.bodyWaterMass, f.massUnit);
    add('impedance', f.impedance, 'Ohm');
    add('basal-metabolism', f.basalMetabolism, 'kJ/d');
    return [
      {
        kind: 'body-composition',
        source: '2A9C',
        ...(f.timeStamp ? { deviceTime: f.timeStamp } : {}),
        ...(f.userId !== undefined ? { userIndex: f.userId } : {}),
        components,
        // A measurement split over several indications (bit 12) gives its values packet by packet: each
        // packet's values are readings of their own, never held back waiting for a packet that may not
        // come. A packet without the time stamp or the user is then held like any such reading.
        final: true,
      },
    ];
  },
};
