/**
 * Glucose Measurement 0x2A18 (GLS v1.0.1 §3.1; GSS "Glucose Measurement"): Flags, Sequence Number,
 * Base Time, then Time Offset, Glucose Concentration + Type-Sample Location and Sensor Status
 * Annunciation as the flags announce. Type is the LOW nibble and Sample Location the HIGH nibble.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { userFacingTime } from '../datetime.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, Measurement, MedNumber } from '../types.ts';
import { enumName, IGNORE_RESERVED_FLAGS, refuseReservedBits, setBitNames } from './bits.ts';
import { decodeSensorStatus, type SensorStatusAnnunciation } from './sensor-status.ts';

const WHAT = 'Glucose Measurement';

/** Flag bits (GSS Glucose Measurement): 5-7 are RFU. */
const FLAG_TIME_OFFSET = 0x01;
const FLAG_CONCENTRATION = 0x02;
const FLAG_UNITS_MOL_PER_L = 0x04;
const FLAG_SENSOR_STATUS = 0x08;
const FLAG_CONTEXT_FOLLOWS = 0x10;
const FLAGS_RESERVED = 0xe0;

export type GlucoseConcentrationUnits = 'kg/L' | 'mol/L';

/** Type (low nibble of Type-Sample Location); 0 and 11-15 are RFU. */
export const GLUCOSE_TYPES = {
  1: 'capillary-whole-blood',
  2: 'capillary-plasma',
  3: 'venous-whole-blood',
  4: 'venous-plasma',
  5: 'arterial-whole-blood',
  6: 'arterial-plasma',
  7: 'undetermined-whole-blood',
  8: 'undetermined-plasma',
  9: 'interstitial-fluid',
  10: 'control-solution',
} as const;
export type GlucoseType = (typeof GLUCOSE_TYPES)[keyof typeof GLUCOSE_TYPES];

/** Sample Location (high nibble of Type-Sample Location); 0 and 5-14 are RFU. */
export const SAMPLE_LOCATIONS = {
  1: 'finger',
  2: 'alternate-site-test',
  3: 'earlobe',
  4: 'control-solution',
  15: 'not-available',
} as const;
export type SampleLocation = (typeof SAMPLE_LOCATIONS)[keyof typeof SAMPLE_LOCATIONS];

export interface GlucoseMeasurementFields {
  /** The raw Flags byte (its meaning is spelled out by the fields present). */
  readonly flags: number;
  readonly sequenceNumber: number;
  readonly baseTime: DeviceDateTime;
  /** Minutes to add to Base Time to get the user-facing time (sint16). */
  readonly timeOffset?: number;
  readonly glucoseConcentration?: MedNumber;
  readonly glucoseConcentrationUnits?: GlucoseConcentrationUnits;
  readonly type?: GlucoseType;
  readonly sampleLocation?: SampleLocation;
  readonly sensorStatusAnnunciation?: SensorStatusAnnunciation;
  /** Flag bit 4: a Glucose Measurement Context (0x2A34) with the same sequence number follows. */
  readonly contextFollows: boolean;
}

export function decodeGlucoseMeasurement(
  bytes: Uint8Array,
  quirks?: ReadonlySet<string>,
): GlucoseMeasurementFields {
  const r = new ByteReader(bytes, WHAT);
  const flags = r.u8('flags');
  refuseReservedBits(WHAT, 'flags', flags, FLAGS_RESERVED, quirks);
  const sequenceNumber = r.u16('sequenceNumber');
  const baseTime = r.dateTime('baseTime');
  const out: {
    -readonly [K in keyof GlucoseMeasurementFields]: GlucoseMeasurementFields[K];
  } = { flags, sequenceNumber, baseTime, contextFollows: (flags & FLAG_CONTEXT_FOLLOWS) !== 0 };
  if (flags & FLAG_TIME_OFFSET) out.timeOffset = r.s16('timeOffset');
  let typeSampleLocation: number | undefined;
  let sensorStatus: number | undefined;
  if (flags & FLAG_CONCENTRATION) {
    out.glucoseConcentration = r.sfloat('glucoseConcentration');
    // GSS: flag bit 2 selects the unit of Glucose Concentration (0 = kg/L, 1 = mol/L).
    out.glucoseConcentrationUnits = flags & FLAG_UNITS_MOL_PER_L ? 'mol/L' : 'kg/L';
    typeSampleLocation = r.u8('typeSampleLocation');
  }
  if (flags & FLAG_SENSOR_STATUS) sensorStatus = r.u16('sensorStatusAnnunciation');
  r.end();
  // Length first, then values: a cut frame is reported as cut, not as a reserved value.
  if (typeSampleLocation !== undefined) {
    out.type = enumName(WHAT, 'type', GLUCOSE_TYPES, typeSampleLocation & 0x0f);
    out.sampleLocation = enumName(WHAT, 'sampleLocation', SAMPLE_LOCATIONS, typeSampleLocation >> 4);
  }
  if (sensorStatus !== undefined)
    out.sensorStatusAnnunciation = decodeSensorStatus(WHAT, sensorStatus, quirks);
  return out;
}

/**
 * The reading a Glucose Measurement carries, in device units. A record without a concentration (a
 * failed test the meter still numbered) keeps an empty component list so the pipeline can count it.
 */
export function glucoseMeasurementToMeasurements(f: GlucoseMeasurementFields): Measurement[] {
  const deviceTime = userFacingTime(f.baseTime, f.timeOffset);
  const context: Record<string, string | number | boolean> = {};
  if (f.type !== undefined) context['type'] = f.type;
  if (f.sampleLocation !== undefined) context['sampleLocation'] = f.sampleLocation;
  if (f.contextFollows) context['contextFollows'] = true;
  const flags = f.sensorStatusAnnunciation ? setBitNames(f.sensorStatusAnnunciation) : [];
  const measurement: Measurement = {
    kind: 'glucose',
    source: '2A18',
    sequence: f.sequenceNumber,
    ...(deviceTime ? { deviceTime } : {}),
    components:
      f.glucoseConcentration && f.glucoseConcentrationUnits
        ? [{ name: 'glucose', value: f.glucoseConcentration, unit: f.glucoseConcentrationUnits }]
        : [],
    ...(Object.keys(context).length > 0 ? { context } : {}),
    ...(flags.length > 0 ? { flags } : {}),
    final: true,
  };
  return [measurement];
}

export const glucoseMeasurement: CharacteristicCodec<GlucoseMeasurementFields> = {
  uuid: '2A18',
  name: 'glucose-measurement',
  spec: 'GLS v1.0.1 §3.1 Glucose Measurement; GSS Glucose Measurement (0x2A18)',
  quirks: [IGNORE_RESERVED_FLAGS],
  decode: decodeGlucoseMeasurement,
  toMeasurements: glucoseMeasurementToMeasurements,
};
