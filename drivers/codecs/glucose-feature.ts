/**
 * Glucose Feature 0x2A51 (GLS v1.0.1 §3.3; GSS "Glucose Feature"): one uint16 of "supported" bits,
 * 0-10 named, 11-15 RFU.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { IGNORE_RESERVED_FLAGS, namedBits, refuseReservedBits } from './bits.ts';

const WHAT = 'Glucose Feature';

export const GLUCOSE_FEATURES = [
  'lowBatteryDetectionDuringMeasurementSupported',
  'sensorMalfunctionDetectionSupported',
  'sensorSampleSizeSupported',
  'sensorStripInsertionErrorDetectionSupported',
  'sensorStripTypeErrorDetectionSupported',
  'sensorResultHighLowDetectionSupported',
  'sensorTemperatureHighLowDetectionSupported',
  'sensorReadInterruptDetectionSupported',
  'generalDeviceFaultSupported',
  'timeFaultSupported',
  'multipleBondSupported',
] as const;

export type GlucoseFeatureFields = Readonly<Record<(typeof GLUCOSE_FEATURES)[number], boolean>>;

const RESERVED = 0xf800;

export function decodeGlucoseFeature(bytes: Uint8Array, quirks?: ReadonlySet<string>): GlucoseFeatureFields {
  const r = new ByteReader(bytes, WHAT);
  const features = r.u16('glucoseFeature');
  r.end();
  refuseReservedBits(WHAT, 'glucoseFeature', features, RESERVED, quirks);
  return namedBits(features, GLUCOSE_FEATURES);
}

export const glucoseFeature: CharacteristicCodec<GlucoseFeatureFields> = {
  uuid: '2A51',
  name: 'glucose-feature',
  spec: 'GLS v1.0.1 §3.3 Glucose Feature; GSS Glucose Feature (0x2A51)',
  quirks: [IGNORE_RESERVED_FLAGS],
  decode: decodeGlucoseFeature,
};
