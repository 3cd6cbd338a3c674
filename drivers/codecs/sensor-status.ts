/**
 * Glucose Sensor Status Annunciation (uint16, GLS v1.0.1 §3.106 / GSS Glucose Measurement) as named
 * flags.
 */
import { namedBits, refuseReservedBits } from './bits.ts';

/** Sensor Status Annunciation bits 0-11, in bit order (GSS Glucose Measurement); bits 12-15 are RFU. */
export const SENSOR_STATUS_FLAGS = [
  'deviceBatteryLow',
  'sensorMalfunction',
  'sampleSizeInsufficient',
  'stripInsertionError',
  'stripTypeIncorrect',
  'resultHigherThanDeviceCanProcess',
  'resultLowerThanDeviceCanProcess',
  'sensorTemperatureTooHigh',
  'sensorTemperatureTooLow',
  'sensorReadInterrupted',
  'generalDeviceFault',
  'timeFault',
] as const;

export type SensorStatusFlag = (typeof SENSOR_STATUS_FLAGS)[number];
export type SensorStatusAnnunciation = Readonly<Record<SensorStatusFlag, boolean>>;

const SENSOR_STATUS_RESERVED = 0xf000;

/** Decodes the Sensor Status Annunciation field into named flags; RFU bits 12-15 are refused unless quirked. */
export function decodeSensorStatus(
  what: string,
  value: number,
  quirks?: ReadonlySet<string>,
): SensorStatusAnnunciation {
  refuseReservedBits(what, 'sensorStatusAnnunciation', value, SENSOR_STATUS_RESERVED, quirks);
  return namedBits(value, SENSOR_STATUS_FLAGS);
}
