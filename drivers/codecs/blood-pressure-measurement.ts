/**
 * Blood Pressure Measurement 0x2A35 (BLS v1.0, GSS "Blood Pressure Measurement"): flags, three SFLOAT
 * pressures in mmHg or kPa, then Time Stamp, Pulse Rate, User ID and Measurement Status as announced.
 * The same layout carries Intermediate Cuff Pressure 0x2A36 (see intermediate-cuff-pressure.ts).
 */
import type { CharacteristicCodec } from '../codec.ts';
import { decodeSfloat } from '../ieee11073.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, Measurement, MeasurementComponent, MedNumber } from '../types.ts';
import { IGNORE_RESERVED_FLAGS, refuseReservedBits } from './bits.ts';
import { type BpStatusFlag, decodeBpStatus } from './bp-status.ts';

/** Quirk: a User ID byte follows the pulse rate even though flag bit 3 is clear (Beurer BM85 capture). */
export const QUIRK_USER_ID_WITHOUT_FLAG = 'user-id-without-flag';
/** Quirk: Pulse Rate and Measurement Status are sent big-endian (Beurer BM85 capture). */
export const QUIRK_PULSE_STATUS_BIG_ENDIAN = 'pulse-status-big-endian';

export { IGNORE_RESERVED_FLAGS };

/** The quirks both blood-pressure codecs understand (set by driver definitions). */
export const BP_QUIRKS = [
  IGNORE_RESERVED_FLAGS,
  QUIRK_USER_ID_WITHOUT_FLAG,
  QUIRK_PULSE_STATUS_BIG_ENDIAN,
] as const;

export type PressureUnit = 'mm[Hg]' | 'kPa';

/** The fields both 0x2A35 and 0x2A36 carry after the three pressures. */
export interface BpCommonFields {
  readonly flags: number;
  readonly unit: PressureUnit;
  readonly timeStamp?: DeviceDateTime;
  readonly pulseRate?: MedNumber;
  readonly userId?: number;
  readonly measurementStatus?: BpStatusFlag[];
}

export interface BloodPressureMeasurementFields extends BpCommonFields {
  readonly systolic: MedNumber;
  readonly diastolic: MedNumber;
  readonly meanArterialPressure: MedNumber;
}

/** Flag bits 5–7 are RFU (GSS 0x2A35). */
const RESERVED_FLAGS = 0xe0;

/** Decodes the shared layout; `pressures` reads the three SFLOAT pressure slots. */
export function decodeBpLayout<P extends object>(
  what: string,
  bytes: Uint8Array,
  quirks: ReadonlySet<string> | undefined,
  pressures: (r: ByteReader) => P,
): BpCommonFields & P {
  const r = new ByteReader(bytes, what);
  const flags = r.u8('flags');
  refuseReservedBits(what, 'flags', flags, RESERVED_FLAGS, quirks);
  const unit: PressureUnit = flags & 0x01 ? 'kPa' : 'mm[Hg]';
  const p = pressures(r);
  const bigEndian = quirks?.has(QUIRK_PULSE_STATUS_BIG_ENDIAN) ?? false;
  // Field order follows the frame: flags, unit, pressures, then the optional fields.
  const out: {
    flags: number;
    unit: PressureUnit;
    timeStamp?: DeviceDateTime;
    pulseRate?: MedNumber;
    userId?: number;
    measurementStatus?: BpStatusFlag[];
  } & P = { flags, unit, ...p };
  if (flags & 0x02) out.timeStamp = r.dateTime('timeStamp');
  if (flags & 0x04) {
    // Beurer BM85 (derdilla/blood-pressure-monitor-fl ble_measurement_data_test.dart): pulse `00 3F` = 63.
    out.pulseRate = bigEndian ? decodeSfloat(r.u16be('pulseRate')) : r.sfloat('pulseRate');
  }
  if (flags & 0x08 || quirks?.has(QUIRK_USER_ID_WITHOUT_FLAG)) out.userId = r.u8('userId');
  if (flags & 0x10) {
    const status = bigEndian ? r.u16be('measurementStatus') : r.u16('measurementStatus');
    out.measurementStatus = decodeBpStatus(what, status, quirks);
  }
  r.end();
  return out;
}

/** Pulse rate, time, user and status of either blood-pressure characteristic, as a Measurement skeleton. */
export function bpMeasurementBase(
  source: string,
  f: BpCommonFields,
  components: MeasurementComponent[],
  final: boolean,
): Measurement {
  if (f.pulseRate) components.push({ name: 'pulse', value: f.pulseRate, unit: '/min' });
  return {
    kind: 'blood-pressure',
    source,
    ...(f.timeStamp ? { deviceTime: f.timeStamp } : {}),
    ...(f.userId !== undefined ? { userIndex: f.userId } : {}),
    components,
    ...(f.measurementStatus && f.measurementStatus.length > 0 ? { flags: [...f.measurementStatus] } : {}),
    final,
  };
}

export const bloodPressureMeasurement: CharacteristicCodec<BloodPressureMeasurementFields> = {
  uuid: '2A35',
  name: 'blood-pressure-measurement',
  spec: 'BLS v1.0 / GSS Blood Pressure Measurement (0x2A35)',
  quirks: BP_QUIRKS,
  decode(bytes, quirks) {
    return decodeBpLayout('Blood Pressure Measurement', bytes, quirks, (r) => ({
      systolic: r.sfloat('systolic'),
      diastolic: r.sfloat('diastolic'),
      meanArterialPressure: r.sfloat('meanArterialPressure'),
    }));
  },
  toMeasurements(f) {
    const components: MeasurementComponent[] = [
      { name: 'systolic', value: f.systolic, unit: f.unit },
      { name: 'diastolic', value: f.diastolic, unit: f.unit },
      { name: 'mean-arterial', value: f.meanArterialPressure, unit: f.unit },
    ];
    return [bpMeasurementBase('2A35', f, components, true)];
  },
};
