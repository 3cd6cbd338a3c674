/**
 * Blood Pressure Feature 0x2A49 (BLS v1.1, GSS "Blood Pressure Feature"): uint16 of supported
 * features; bits 0–5 from BLS 1.0, bits 6–8 (E2E-CRC, User Data Service, User Facing Time) from BLS 1.1,
 * bits 9–15 RFU.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { namedBits, refuseReservedBits } from './bits.ts';

const FEATURES = [
  'bodyMovementDetectionSupported',
  'cuffFitDetectionSupported',
  'irregularPulseDetectionSupported',
  'pulseRateRangeDetectionSupported',
  'measurementPositionDetectionSupported',
  'multipleBondsSupported',
  'e2eCrcSupported',
  'userDataServiceSupported',
  'userFacingTimeSupported',
] as const;

export type BloodPressureFeatureFields = Record<(typeof FEATURES)[number], boolean>;

export const bloodPressureFeature: CharacteristicCodec<BloodPressureFeatureFields> = {
  uuid: '2A49',
  name: 'blood-pressure-feature',
  spec: 'BLS v1.1 / GSS Blood Pressure Feature (0x2A49)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'Blood Pressure Feature';
    const r = new ByteReader(bytes, what);
    const value = r.u16('bloodPressureFeature');
    r.end();
    refuseReservedBits(what, 'bloodPressureFeature', value, 0xfe00, quirks);
    return namedBits(value, FEATURES);
  },
};
