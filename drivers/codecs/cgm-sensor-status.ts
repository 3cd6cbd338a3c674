/**
 * CGM Sensor Status Annunciation (CGMS v1.0.1; GSS "CGM Measurement" / "CGM Status"): 24 bits in three
 * octets — Status (bits 0-7), Cal/Temp (bits 8-15), Warning (bits 16-23). CGM Status 0x2AA9 sends all
 * three; a CGM Measurement 0x2AA7 record sends only the octets its flags announce (bit 7 Status, bit 6
 * Cal/Temp, bit 5 Warning), in the order Status, Cal/Temp, Warning. RFU: bits 6-7 and 15.
 *
 * The names carry a `cgm` prefix: the status decision table (drivers/normalize/status.ts) keys decisions by
 * flag name, and a CGM "device battery low" or "sensor malfunction" is a different bit from the GLS one.
 */
import { bitNames, refuseReservedBits } from './bits.ts';

/** Bit i of the 24-bit annunciation, as the codecs name it (undefined: RFU). */
export const CGM_SENSOR_STATUS_FLAGS: readonly (string | undefined)[] = [
  // Status octet
  'cgmSessionStopped',
  'cgmDeviceBatteryLow',
  'cgmSensorTypeIncorrect',
  'cgmSensorMalfunction',
  'cgmDeviceSpecificAlert',
  'cgmGeneralDeviceFault',
  undefined,
  undefined,
  // Cal/Temp octet
  'cgmTimeSyncRequired',
  'cgmCalibrationNotAllowed',
  'cgmCalibrationRecommended',
  'cgmCalibrationRequired',
  'cgmSensorTemperatureTooHigh',
  'cgmSensorTemperatureTooLow',
  'cgmCalibrationPending',
  undefined,
  // Warning octet
  'cgmResultBelowPatientLow',
  'cgmResultAbovePatientHigh',
  'cgmResultBelowHypo',
  'cgmResultAboveHyper',
  'cgmRateOfDecreaseExceeded',
  'cgmRateOfIncreaseExceeded',
  'cgmResultBelowDeviceRange',
  'cgmResultAboveDeviceRange',
];

/** The named bits (every defined one), for the decision table. */
export const CGM_SENSOR_STATUS_NAMES: readonly string[] = CGM_SENSOR_STATUS_FLAGS.filter(
  (n): n is string => n !== undefined,
);

/** RFU bits of the 24-bit annunciation: Status bits 6-7, Cal/Temp bit 7 (bit 15). */
export const CGM_SENSOR_STATUS_RESERVED = 0x0080c0;

/** Flag bits of a 0x2AA7 record that announce each annunciation octet, with the octet's bit shift. */
export const CGM_ANNUNCIATION_OCTETS = [
  { flag: 0x80, shift: 0, name: 'status' },
  { flag: 0x40, shift: 8, name: 'calTemp' },
  { flag: 0x20, shift: 16, name: 'warning' },
] as const;

/** Names of the set bits of a 24-bit annunciation value; RFU bits refused unless quirked. */
export function decodeCgmSensorStatus(
  what: string,
  field: string,
  value: number,
  quirks?: ReadonlySet<string>,
): string[] {
  refuseReservedBits(what, field, value, CGM_SENSOR_STATUS_RESERVED, quirks);
  return bitNames(value, CGM_SENSOR_STATUS_FLAGS);
}
