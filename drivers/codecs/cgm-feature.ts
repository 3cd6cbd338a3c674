/**
 * CGM Feature 0x2AA8 (CGMS v1.0.1 "CGM Feature"; GSS "CGM Feature"): CGM Feature (24 bits, 17-23 RFU),
 * CGM Type-Sample Location (uint8: Type in the low nibble as in GLS, Sample Location in the high nibble),
 * E2E-CRC (uint16, always present: checked when bit 12 says E2E-CRC is supported, 0xFFFF otherwise).
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { enumName, namedBits, refuseReservedBits } from './bits.ts';
import { checkCgmCrc } from './cgm-crc.ts';
import { GLUCOSE_TYPES, type GlucoseType } from './glucose-measurement.ts';

const WHAT = 'CGM Feature';

/** CGM Feature bits 0-16, in bit order. */
export const CGM_FEATURES = [
  'calibrationSupported',
  'patientHighLowAlertsSupported',
  'hypoAlertsSupported',
  'hyperAlertsSupported',
  'rateOfIncreaseDecreaseAlertsSupported',
  'deviceSpecificAlertSupported',
  'sensorMalfunctionDetectionSupported',
  'sensorTemperatureHighLowDetectionSupported',
  'sensorResultHighLowDetectionSupported',
  'lowBatteryDetectionSupported',
  'sensorTypeErrorDetectionSupported',
  'generalDeviceFaultSupported',
  'e2eCrcSupported',
  'multipleBondSupported',
  'multipleSessionsSupported',
  'cgmTrendInformationSupported',
  'cgmQualitySupported',
] as const;
export type CgmFeature = (typeof CGM_FEATURES)[number];

/** CGM Sample Location (high nibble): GLS's list plus 5 subcutaneous tissue; 0 and 6-14 RFU. */
export const CGM_SAMPLE_LOCATIONS = {
  1: 'finger',
  2: 'alternate-site-test',
  3: 'earlobe',
  4: 'control-solution',
  5: 'subcutaneous-tissue',
  15: 'not-available',
} as const;
export type CgmSampleLocation = (typeof CGM_SAMPLE_LOCATIONS)[keyof typeof CGM_SAMPLE_LOCATIONS];

/** E2E-CRC Supported (bit 12). */
export const CGM_FEATURE_E2E_CRC = 1 << 12;

export interface CgmFeatureFields {
  readonly features: Record<CgmFeature, boolean>;
  readonly type: GlucoseType;
  readonly sampleLocation: CgmSampleLocation;
  /** The E2E-CRC, checked, when the device supports it. */
  readonly e2eCrc?: number;
}

export function decodeCgmFeature(bytes: Uint8Array, quirks?: ReadonlySet<string>): CgmFeatureFields {
  const r = new ByteReader(bytes, WHAT);
  const value = r.u24('features');
  const typeSampleLocation = r.u8('typeSampleLocation');
  const crcField = r.u16('e2eCrc');
  r.end();
  const supported = (value & CGM_FEATURE_E2E_CRC) !== 0;
  if (supported) checkCgmCrc(WHAT, bytes, 0, 4, bytes.length, true);
  refuseReservedBits(WHAT, 'features', value, 0xfe0000, quirks);
  return {
    features: namedBits(value, CGM_FEATURES),
    type: enumName(WHAT, 'type', GLUCOSE_TYPES, typeSampleLocation & 0x0f),
    sampleLocation: enumName(WHAT, 'sampleLocation', CGM_SAMPLE_LOCATIONS, typeSampleLocation >> 4),
    ...(supported ? { e2eCrc: crcField } : {}),
  };
}

export const cgmFeature: CharacteristicCodec<CgmFeatureFields> = {
  uuid: '2AA8',
  name: 'cgm-feature',
  spec: 'CGMS v1.0.1 CGM Feature; GSS CGM Feature (0x2AA8)',
  quirks: ['ignore-reserved-flags'],
  decode: decodeCgmFeature,
};
