/**
 * PLX Features 0x2A60 (PLXS v1.0, GSS "PLX Features"): Supported Features (uint16), then Measurement
 * Status Support (uint16) if bit 0 and Device and Sensor Status Support (uint24) if bit 1; bits 8–15 RFU.
 * The support fields use the bit layout of the status fields they describe.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { namedBits, refuseReservedBits } from './bits.ts';
import { decodePlxDeviceAndSensorStatus, decodePlxMeasurementStatus } from './plx-status.ts';

const FEATURES = [
  'measurementStatusSupported',
  'deviceAndSensorStatusSupported',
  'spotCheckMeasurementStorageSupported',
  'spotCheckTimestampSupported',
  'spo2prFastSupported',
  'spo2prSlowSupported',
  'pulseAmplitudeIndexSupported',
  'multipleBondsSupported',
] as const;

export interface PlxFeaturesFields {
  readonly supportedFeatures: Record<(typeof FEATURES)[number], boolean>;
  /** Names of the Measurement Status bits the device can set. */
  readonly measurementStatusSupport?: string[];
  /** Names of the Device and Sensor Status bits the device can set. */
  readonly deviceAndSensorStatusSupport?: string[];
}

export const plxFeatures: CharacteristicCodec<PlxFeaturesFields> = {
  uuid: '2A60',
  name: 'plx-features',
  spec: 'PLXS v1.0 / GSS PLX Features (0x2A60)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'PLX Features';
    const r = new ByteReader(bytes, what);
    const value = r.u16('supportedFeatures');
    refuseReservedBits(what, 'supportedFeatures', value, 0xff00, quirks);
    const out: {
      supportedFeatures: Record<(typeof FEATURES)[number], boolean>;
      measurementStatusSupport?: string[];
      deviceAndSensorStatusSupport?: string[];
    } = { supportedFeatures: namedBits(value, FEATURES) };
    if (value & 0x01) {
      out.measurementStatusSupport = decodePlxMeasurementStatus(
        what,
        'measurementStatusSupport',
        r.u16('measurementStatusSupport'),
        quirks,
      );
    }
    if (value & 0x02) {
      out.deviceAndSensorStatusSupport = decodePlxDeviceAndSensorStatus(
        what,
        'deviceAndSensorStatusSupport',
        r.u24('deviceAndSensorStatusSupport'),
        quirks,
      );
    }
    r.end();
    return out;
  },
};
