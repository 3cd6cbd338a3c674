/**
 * The one table of what medgw does with every status bit a device can send: each defined bit of each
 * status field gets exactly one decision (`docs/clinical-mapping.md` is generated from this table and a
 * test enumerates every bit the codecs name).
 *
 * - `carried`: the bit travels in the Observation's `interpretation`, coded as the HL7 PHD IG codes it:
 *   - a measurement-status condition: PHD IG 1.0.0, PhdBaseObservation "Measurement Status"
 *     (questionable / calibration-ongoing / validated-data → the measurement-status code system the IG ships);
 *   - a device or sensor status bit: the PHD IG ASN1ToHL7 code `<MDC code of the status attribute>.<bit>`
 *     (CodeSystem ASN1ToHL7 intro). The IG reports such bits in a second Observation whose components are
 *     valued `v2-0136#Y` (PhdBitsEnumerationObservation); the MES feeding Bundle takes exactly one
 *     Observation (API Mesures 1.5.2 §2.2) and the HL7 vital-signs parents bind `component.value[x]` to
 *     UCUM units (required), so the set bit's code rides in `interpretation` (extensible binding) instead:
 *     that choice is ours, written down in docs/clinical-mapping.md.
 * - `quarantined`: the device itself says the value is not valid (or is demonstration/test data). The
 *   reading is kept for a person, with the reason, and never sent unless a person confirms it.
 * - `not-final`: the device says the value is still being measured or is an early estimate; the reading is
 *   intermediate and the final value follows (PHD IG: msmt-ongoing, early-indication → preliminary).
 * - `time`: the bit is about the device clock, not the value; the time logic (time.ts) refuses to correct
 *   the reading by that clock and its time quality says so.
 *
 * Pure data and lookups: no I/O.
 */

import type { ErrorCode } from '../../kernel/errors.ts';
import { BP_STATUS_FLAGS } from '../codecs/bp-status.ts';
import { CGM_SENSOR_STATUS_NAMES } from '../codecs/cgm-sensor-status.ts';
import { PLX_DEVICE_AND_SENSOR_STATUS, PLX_MEASUREMENT_STATUS } from '../codecs/plx-status.ts';
import { SENSOR_STATUS_FLAGS } from '../codecs/sensor-status.ts';
import type { Quarantine, StatusCoding } from '../types.ts';
import { squash } from './time.ts';

/** PHD IG 1.0.0 CodeSystem ASN1ToHL7: IEEE 11073 bit strings as codes `<MDC code>.<bit>`. */
export const ASN1_TO_HL7 = 'http://hl7.org/fhir/uv/phd/CodeSystem/ASN1ToHL7';
/** PHD IG 1.0.0 measurement-status code system (defined under the PoCD canonical in that release). */
export const MEASUREMENT_STATUS = 'http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status';

export type StatusDecisionKind = 'carried' | 'quarantined' | 'not-final' | 'time';

/** The status fields the codecs decode, with the spec that defines their bits. */
export const STATUS_FIELDS = {
  'gls-sensor-status': {
    name: 'Glucose Measurement, Sensor Status Annunciation',
    characteristics: ['2A18'],
    spec: 'GLS v1.0.1 §3.1 / GSS "Glucose Measurement" Sensor Status Annunciation (uint16, bits 12-15 RFU)',
    names: SENSOR_STATUS_FLAGS,
  },
  'bls-measurement-status': {
    name: 'Blood Pressure Measurement Status',
    characteristics: ['2A35', '2A36'],
    spec: 'BLS v1.0 / GSS "Blood Pressure Measurement" Measurement Status (uint16, bits 6-15 RFU)',
    names: BP_STATUS_FLAGS,
  },
  'plx-measurement-status': {
    name: 'PLX Measurement Status',
    characteristics: ['2A5E', '2A5F'],
    spec: 'PLXS v1.0 / GSS "PLX Spot-Check Measurement" Measurement Status (uint16, bits 0-4 RFU)',
    names: PLX_MEASUREMENT_STATUS.filter((n): n is string => n !== undefined),
  },
  'plx-device-sensor-status': {
    name: 'PLX Device and Sensor Status',
    characteristics: ['2A5E', '2A5F'],
    spec: 'PLXS v1.0 / GSS "PLX Spot-Check Measurement" Device and Sensor Status (uint24, bits 16-23 RFU)',
    names: PLX_DEVICE_AND_SENSOR_STATUS,
  },
  'cgm-sensor-status': {
    name: 'CGM Sensor Status Annunciation',
    characteristics: ['2AA7', '2AA9'],
    spec: 'CGMS v1.0.1 / GSS "CGM Measurement" Sensor Status Annunciation (Status, Cal/Temp, Warning octets; bits 6-7 and 15 RFU)',
    names: CGM_SENSOR_STATUS_NAMES,
  },
  'plx-flags': {
    name: 'PLX Spot-Check Measurement Flags (status bit)',
    characteristics: ['2A5E'],
    spec: 'PLXS v1.0 / GSS "PLX Spot-Check Measurement" Flags bit 4 "Device Clock is Not Set"',
    names: ['deviceClockNotSet'],
  },
} as const;
export type StatusFieldId = keyof typeof STATUS_FIELDS;

/** Characteristics whose frames carry no status field at all (their flags only announce fields and units). */
export const NO_STATUS_FIELD: Readonly<Record<string, string>> = {
  '2A1C':
    'Temperature Measurement: HTS v1.0 / GSS flags announce units, time stamp and temperature type only; no status bit',
  '2A9D': 'Weight Measurement: WSS v1.0 / GSS flags announce units and fields only; no status bit',
  '2A34': 'Glucose Measurement Context: GLS v1.0.1 §3.2 flags announce fields only; no status bit',
};

export interface StatusBitDecision {
  readonly field: StatusFieldId;
  /** The bit (or bit field value) as the spec numbers it. */
  readonly bit: string;
  /** The name the codec gives the flag (Measurement.flags). */
  readonly flag: string;
  readonly decision: StatusDecisionKind;
  /** How a carried bit is coded in the Observation. */
  readonly coding?: StatusCoding;
  /** Why a quarantined bit holds the reading. */
  readonly quarantine?: { readonly code: ErrorCode; readonly reason: string };
  /** The one-line reason for the decision, with its source. */
  readonly why: string;
}

const bit = (mdc: number, n: number, display: string): StatusCoding => ({
  system: ASN1_TO_HL7,
  code: `${mdc}.${n}`,
  display,
});
const interpretation = (code: string, display: string): StatusCoding => ({
  system: MEASUREMENT_STATUS,
  code,
  display,
});
/** A measurement-status condition the PHD IG has no code for: carried as interpretation text. */
const interpretationText = (display: string): StatusCoding => ({ display });

const INVALID: ErrorCode = 'MEDGW_ERR_DEVICE_REPORTED_INVALID';
const invalid = (reason: string) => ({ code: INVALID, reason: `the device reported: ${reason}` });

/** MDC_GLU_METER_DEV_STATUS (IEEE 11073-10417), the GLS Sensor Status Annunciation in ASN1ToHL7. */
const GLU_DEV_STATUS = 8417752;
/** MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS (ASN1ToHL7 8410608.x). */
const BP_MEAS_STATUS = 8410608;
/** MDC_PULS_OXIM_DEV_STATUS (IEEE 11073-10404): ASN.1 bit n is PLXS Device and Sensor Status bit 15 − n. */
const PULS_OXIM_DEV_STATUS = 150604;
const oxim = (btBit: number, display: string) => bit(PULS_OXIM_DEV_STATUS, 15 - btBit, display);

const GLS = 'gls-sensor-status';
const CGM = 'cgm-sensor-status';
/**
 * No ASN1ToHL7 code for a CGM status attribute was found in the PHD IG (its ASN1ToHL7 value sets list
 * glucometer, cuff, oximeter and generic bits), so a carried CGM bit travels as interpretation text; the one measurement-status condition the IG codes (calibration
 * ongoing) keeps its code. Every CGM reading is interstitial (MEDGW_ERR_GLUCOSE_INTERSTITIAL), which the
 * pipeline turns into a value kept local for the summaries (MEDGW_ERR_CGM_POINT_LOCAL): these decisions say
 * what the record keeps and what outranks that (an invalid value stays quarantined with its own reason).
 */
const cgmText = (display: string): StatusCoding => ({ display: `${display} (CGM sensor status)` });
const BPS = 'bls-measurement-status';
const PMS = 'plx-measurement-status';
const PDS = 'plx-device-sensor-status';
const ASN1 = 'PHD IG ASN1ToHL7';

export const STATUS_DECISIONS: readonly StatusBitDecision[] = [
  // --- GLS Sensor Status Annunciation: ASN1ToHL7 8417752.n is GLS bit n (11073-10417 order) ---------
  {
    field: GLS,
    bit: '0',
    flag: 'deviceBatteryLow',
    decision: 'carried',
    coding: bit(GLU_DEV_STATUS, 0, 'device-battery-low'),
    why: `a low battery does not invalidate the result; ${ASN1} 8417752.0`,
  },
  {
    field: GLS,
    bit: '1',
    flag: 'sensorMalfunction',
    decision: 'quarantined',
    quarantine: invalid('sensor malfunction'),
    why: 'the meter says its sensor malfunctioned: the value is not a valid result',
  },
  {
    field: GLS,
    bit: '2',
    flag: 'sampleSizeInsufficient',
    decision: 'quarantined',
    quarantine: invalid('sample size insufficient'),
    why: 'too little blood on the strip: the meter reports a value it could not measure properly',
  },
  {
    field: GLS,
    bit: '3',
    flag: 'stripInsertionError',
    decision: 'quarantined',
    quarantine: invalid('strip insertion error'),
    why: 'a wrongly inserted strip gives no valid result',
  },
  {
    field: GLS,
    bit: '4',
    flag: 'stripTypeIncorrect',
    decision: 'quarantined',
    quarantine: invalid('strip type incorrect for this meter'),
    why: 'a strip the meter is not calibrated for gives no valid result',
  },
  {
    field: GLS,
    bit: '5',
    flag: 'resultHigherThanDeviceCanProcess',
    decision: 'carried',
    coding: bit(GLU_DEV_STATUS, 5, 'sensor-result-too-high'),
    why: `HI: sent as "> the meter's limit" (valueQuantity.comparator) with ${ASN1} 8417752.5; held as critical when the meter sends no limit`,
  },
  {
    field: GLS,
    bit: '6',
    flag: 'resultLowerThanDeviceCanProcess',
    decision: 'carried',
    coding: bit(GLU_DEV_STATUS, 6, 'sensor-result-too-low'),
    why: `LO: sent as "< the meter's limit" (valueQuantity.comparator) with ${ASN1} 8417752.6; held as critical when the meter sends no limit`,
  },
  {
    field: GLS,
    bit: '7',
    flag: 'sensorTemperatureTooHigh',
    decision: 'quarantined',
    quarantine: invalid('sensor temperature too high for a valid result'),
    why: 'strips are only accurate within their operating temperature',
  },
  {
    field: GLS,
    bit: '8',
    flag: 'sensorTemperatureTooLow',
    decision: 'quarantined',
    quarantine: invalid('sensor temperature too low for a valid result'),
    why: 'strips are only accurate within their operating temperature',
  },
  {
    field: GLS,
    bit: '9',
    flag: 'sensorReadInterrupted',
    decision: 'quarantined',
    quarantine: invalid('sensor read interrupted'),
    why: 'the measurement did not complete',
  },
  {
    field: GLS,
    bit: '10',
    flag: 'generalDeviceFault',
    decision: 'quarantined',
    quarantine: invalid('general device fault'),
    why: 'the meter declares a fault: the value is not trustworthy',
  },
  {
    field: GLS,
    bit: '11',
    flag: 'timeFault',
    decision: 'time',
    why: 'the meter clock is at fault: the time is not corrected by it (ASN1ToHL7 8417752.11 means something else, so no component)',
  },
  // --- CGM Sensor Status Annunciation (CGMS v1.0.1): bit n of Status | Cal/Temp << 8 | Warning << 16 --
  {
    field: CGM,
    bit: '0',
    flag: 'cgmSessionStopped',
    decision: 'quarantined',
    quarantine: invalid('CGM session stopped'),
    why: 'CGMS: the sensor session has ended; a value stamped after it is not a monitored result',
  },
  {
    field: CGM,
    bit: '1',
    flag: 'cgmDeviceBatteryLow',
    decision: 'carried',
    coding: cgmText('Device battery low'),
    why: 'a low battery does not invalidate the value; no ASN1ToHL7 code for CGM: carried as text',
  },
  {
    field: CGM,
    bit: '2',
    flag: 'cgmSensorTypeIncorrect',
    decision: 'quarantined',
    quarantine: invalid('sensor type incorrect for the device'),
    why: 'a sensor the device is not made for gives no valid result',
  },
  {
    field: CGM,
    bit: '3',
    flag: 'cgmSensorMalfunction',
    decision: 'quarantined',
    quarantine: invalid('CGM sensor malfunction'),
    why: 'the device says its sensor malfunctioned',
  },
  {
    field: CGM,
    bit: '4',
    flag: 'cgmDeviceSpecificAlert',
    decision: 'carried',
    coding: cgmText('Device specific alert'),
    why: 'a vendor alert whose meaning CGMS leaves to the maker: kept with the value for the clinician',
  },
  {
    field: CGM,
    bit: '5',
    flag: 'cgmGeneralDeviceFault',
    decision: 'quarantined',
    quarantine: invalid('CGM general device fault'),
    why: 'the device declares a fault in the sensor: the value is not trustworthy',
  },
  {
    field: CGM,
    bit: '8',
    flag: 'cgmTimeSyncRequired',
    decision: 'time',
    why: 'CGMS: the sensor and collector times must be synchronised: the record time is not corrected by that clock',
  },
  {
    field: CGM,
    bit: '9',
    flag: 'cgmCalibrationNotAllowed',
    decision: 'carried',
    coding: cgmText('Calibration not allowed'),
    why: 'says when the sensor accepts a calibration, not that the value is wrong',
  },
  {
    field: CGM,
    bit: '10',
    flag: 'cgmCalibrationRecommended',
    decision: 'carried',
    coding: cgmText('Calibration recommended'),
    why: 'the sensor still vouches for the value; the clinician sees the recommendation',
  },
  {
    field: CGM,
    bit: '11',
    flag: 'cgmCalibrationRequired',
    decision: 'quarantined',
    quarantine: invalid('CGM calibration required'),
    why: 'CGMS: the sensor needs a calibration before its values can be used',
  },
  {
    field: CGM,
    bit: '12',
    flag: 'cgmSensorTemperatureTooHigh',
    decision: 'quarantined',
    quarantine: invalid('CGM sensor temperature too high for a valid result'),
    why: 'CGMS: too hot for a valid result at the time of measurement',
  },
  {
    field: CGM,
    bit: '13',
    flag: 'cgmSensorTemperatureTooLow',
    decision: 'quarantined',
    quarantine: invalid('CGM sensor temperature too low for a valid result'),
    why: 'CGMS: too cold for a valid result at the time of measurement',
  },
  {
    field: CGM,
    bit: '14',
    flag: 'cgmCalibrationPending',
    decision: 'carried',
    coding: interpretation('calibration-ongoing', 'Calibration ongoing'),
    why: 'PHD IG: calibrating → interpretation calibration-ongoing',
  },
  {
    field: CGM,
    bit: '16',
    flag: 'cgmResultBelowPatientLow',
    decision: 'carried',
    coding: cgmText('Result lower than the patient low level'),
    why: 'a clinical alert about the value, not a fault: kept with it',
  },
  {
    field: CGM,
    bit: '17',
    flag: 'cgmResultAbovePatientHigh',
    decision: 'carried',
    coding: cgmText('Result higher than the patient high level'),
    why: 'a clinical alert about the value, not a fault: kept with it',
  },
  {
    field: CGM,
    bit: '18',
    flag: 'cgmResultBelowHypo',
    decision: 'carried',
    coding: cgmText('Result lower than the hypo level'),
    why: 'a clinical alert about the value, not a fault: kept with it',
  },
  {
    field: CGM,
    bit: '19',
    flag: 'cgmResultAboveHyper',
    decision: 'carried',
    coding: cgmText('Result higher than the hyper level'),
    why: 'a clinical alert about the value, not a fault: kept with it',
  },
  {
    field: CGM,
    bit: '20',
    flag: 'cgmRateOfDecreaseExceeded',
    decision: 'carried',
    coding: cgmText('Rate of decrease exceeded'),
    why: 'a clinical alert about the trend, not a fault: kept with the value',
  },
  {
    field: CGM,
    bit: '21',
    flag: 'cgmRateOfIncreaseExceeded',
    decision: 'carried',
    coding: cgmText('Rate of increase exceeded'),
    why: 'a clinical alert about the trend, not a fault: kept with the value',
  },
  {
    field: CGM,
    bit: '22',
    flag: 'cgmResultBelowDeviceRange',
    decision: 'carried',
    coding: cgmText('Result lower than the device can process'),
    why: 'LO: the value is the sensor range end, carried with the flag (no comparator: a CGM value is never sent alone, only in the period summaries)',
  },
  {
    field: CGM,
    bit: '23',
    flag: 'cgmResultAboveDeviceRange',
    decision: 'carried',
    coding: cgmText('Result higher than the device can process'),
    why: 'HI: the value is the sensor range end, carried with the flag (no comparator: a CGM value is never sent alone, only in the period summaries)',
  },
  // --- Blood Pressure Measurement Status: ASN1ToHL7 8410608.n ---------------------------------------
  {
    field: BPS,
    bit: '0',
    flag: 'bodyMovement',
    decision: 'carried',
    coding: bit(BP_MEAS_STATUS, 0, 'body-movement'),
    why: `the cuff still reports its result; the clinician sees the movement (${ASN1} 8410608.0)`,
  },
  {
    field: BPS,
    bit: '1',
    flag: 'cuffFitLoose',
    decision: 'carried',
    coding: bit(BP_MEAS_STATUS, 1, 'cuff-too-loose'),
    why: `${ASN1} 8410608.1`,
  },
  {
    field: BPS,
    bit: '2',
    flag: 'irregularPulse',
    decision: 'carried',
    coding: bit(BP_MEAS_STATUS, 2, 'irregular-pulse'),
    why: `clinically meaningful in itself (arrhythmia screening); ${ASN1} 8410608.2`,
  },
  {
    field: BPS,
    bit: '3-4 = 1',
    flag: 'pulseRateExceedsUpperLimit',
    decision: 'carried',
    coding: bit(BP_MEAS_STATUS, 3, 'pulse-over-range-limit'),
    why: `${ASN1} 8410608.3`,
  },
  {
    field: BPS,
    bit: '3-4 = 2',
    flag: 'pulseRateBelowLowerLimit',
    decision: 'carried',
    coding: bit(BP_MEAS_STATUS, 4, 'pulse-under-range-limit'),
    why: `${ASN1} 8410608.4`,
  },
  {
    field: BPS,
    bit: '5',
    flag: 'improperMeasurementPosition',
    decision: 'carried',
    coding: bit(BP_MEAS_STATUS, 5, 'improper-body-position'),
    why: `${ASN1} 8410608.5`,
  },
  // --- PLX Measurement Status (IEEE 11073 Measurement-Status; PHD IG "Measurement Status" table) ------
  {
    field: PMS,
    bit: '5',
    flag: 'measurementOngoing',
    decision: 'not-final',
    why: 'PHD IG: msmt-ongoing; the final value follows',
  },
  {
    field: PMS,
    bit: '6',
    flag: 'earlyEstimatedData',
    decision: 'not-final',
    why: 'PHD IG: early-indication → status preliminary; the final value follows',
  },
  {
    field: PMS,
    bit: '7',
    flag: 'validatedData',
    decision: 'carried',
    coding: interpretation('validated-data', 'Validated data'),
    why: 'PHD IG measurement-status validated-data',
  },
  {
    field: PMS,
    bit: '8',
    flag: 'fullyQualifiedData',
    decision: 'carried',
    coding: interpretationText('Fully qualified data (PLX measurement status)'),
    why: 'no PHD IG code: carried as interpretation text',
  },
  {
    field: PMS,
    bit: '9',
    flag: 'dataFromMeasurementStorage',
    decision: 'carried',
    coding: interpretationText('Data from measurement storage (PLX measurement status)'),
    why: 'no PHD IG code: carried as interpretation text (the time logic treats it like any stored record)',
  },
  {
    field: PMS,
    bit: '10',
    flag: 'dataForDemonstration',
    decision: 'quarantined',
    quarantine: { code: 'MEDGW_ERR_STATUS_SUPPRESSED', reason: 'the device marked it as demonstration data' },
    why: 'PHD IG: test/demo data is not uploaded except for testing',
  },
  {
    field: PMS,
    bit: '11',
    flag: 'dataForTesting',
    decision: 'quarantined',
    quarantine: { code: 'MEDGW_ERR_STATUS_SUPPRESSED', reason: 'the device marked it as test data' },
    why: 'PHD IG: test data → meta.security HTEST, not uploaded except for testing',
  },
  {
    field: PMS,
    bit: '12',
    flag: 'calibrationOngoing',
    decision: 'carried',
    coding: interpretation('calibration-ongoing', 'Calibration ongoing'),
    why: 'PHD IG: calibrating → interpretation calibration-ongoing',
  },
  {
    field: PMS,
    bit: '13',
    flag: 'measurementUnavailable',
    decision: 'quarantined',
    quarantine: invalid('measurement unavailable'),
    why: 'PHD IG: not-available → dataAbsentReason not-performed; no value to send',
  },
  {
    field: PMS,
    bit: '14',
    flag: 'questionableMeasurementDetected',
    decision: 'carried',
    coding: interpretation('questionable', 'Questionable'),
    why: 'PHD IG: questionable → interpretation questionable (quarantined when low perfusion is also set)',
  },
  {
    field: PMS,
    bit: '15',
    flag: 'invalidMeasurementDetected',
    decision: 'quarantined',
    quarantine: invalid('invalid measurement'),
    why: 'PHD IG: invalid → dataAbsentReason error / entered-in-error; never a value',
  },
  // --- PLX Device and Sensor Status: ASN1ToHL7 150604.(15 − bit) --------------------------------------
  {
    field: PDS,
    bit: '0',
    flag: 'extendedDisplayUpdateOngoing',
    decision: 'carried',
    coding: oxim(0, 'device-extended-update'),
    why: `${ASN1} 150604.15`,
  },
  {
    field: PDS,
    bit: '1',
    flag: 'equipmentMalfunctionDetected',
    decision: 'quarantined',
    quarantine: invalid('equipment malfunction'),
    why: 'the oximeter declares a malfunction',
  },
  {
    field: PDS,
    bit: '2',
    flag: 'signalProcessingIrregularityDetected',
    decision: 'carried',
    coding: oxim(2, 'signal-processing-irregularity'),
    why: `${ASN1} 150604.13`,
  },
  {
    field: PDS,
    bit: '3',
    flag: 'inadequateSignalDetected',
    decision: 'carried',
    coding: oxim(3, 'signal-inadequate'),
    why: `${ASN1} 150604.12`,
  },
  {
    field: PDS,
    bit: '4',
    flag: 'poorSignalDetected',
    decision: 'carried',
    coding: oxim(4, 'signal-poor'),
    why: `${ASN1} 150604.11`,
  },
  {
    field: PDS,
    bit: '5',
    flag: 'lowPerfusionDetected',
    decision: 'carried',
    coding: oxim(5, 'signal-low-perfusion'),
    why: `${ASN1} 150604.10 (quarantined when the measurement is also questionable)`,
  },
  {
    field: PDS,
    bit: '6',
    flag: 'erraticSignalDetected',
    decision: 'carried',
    coding: oxim(6, 'signal-erratic'),
    why: `${ASN1} 150604.9`,
  },
  {
    field: PDS,
    bit: '7',
    flag: 'nonpulsatileSignalDetected',
    decision: 'carried',
    coding: oxim(7, 'signal-non-pulsatile'),
    why: `${ASN1} 150604.8`,
  },
  {
    field: PDS,
    bit: '8',
    flag: 'questionablePulseDetected',
    decision: 'carried',
    coding: oxim(8, 'signal-pulse-questionable'),
    why: `${ASN1} 150604.7`,
  },
  {
    field: PDS,
    bit: '9',
    flag: 'signalAnalysisOngoing',
    decision: 'carried',
    coding: oxim(9, 'signal-searching'),
    why: `${ASN1} 150604.6`,
  },
  {
    field: PDS,
    bit: '10',
    flag: 'sensorInterferenceDetected',
    decision: 'carried',
    coding: oxim(10, 'sensor-interference'),
    why: `${ASN1} 150604.5`,
  },
  {
    field: PDS,
    bit: '11',
    flag: 'sensorUnconnectedToUser',
    decision: 'quarantined',
    quarantine: invalid('sensor not on the user'),
    why: 'a sensor that is not on the patient measures nothing of theirs',
  },
  {
    field: PDS,
    bit: '12',
    flag: 'unknownSensorConnected',
    decision: 'quarantined',
    quarantine: invalid('unknown (unsupported) sensor connected'),
    why: 'the oximeter cannot vouch for a sensor it does not know',
  },
  {
    field: PDS,
    bit: '13',
    flag: 'sensorDisplaced',
    decision: 'quarantined',
    quarantine: invalid('sensor displaced'),
    why: 'a displaced sensor is not correctly placed on the user',
  },
  {
    field: PDS,
    bit: '14',
    flag: 'sensorMalfunctioning',
    decision: 'quarantined',
    quarantine: invalid('sensor malfunctioning'),
    why: 'the sensor malfunctioned',
  },
  {
    field: PDS,
    bit: '15',
    flag: 'sensorDisconnected',
    decision: 'quarantined',
    quarantine: invalid('sensor disconnected'),
    why: 'no sensor, no measurement',
  },
  // --- PLX Spot-Check flags bit 4 ------------------------------------------------------------------
  {
    field: 'plx-flags',
    bit: '4',
    flag: 'deviceClockNotSet',
    decision: 'time',
    why: 'the oximeter clock is not set: its time stamp is not trusted',
  },
];

/** Combinations of carried bits that together mean the value is not valid. */
export const STATUS_COMBINATIONS: readonly {
  readonly flags: readonly string[];
  readonly quarantine: { readonly code: ErrorCode; readonly reason: string };
  readonly why: string;
}[] = [
  {
    flags: ['questionableMeasurementDetected', 'lowPerfusionDetected'],
    quarantine: invalid('questionable measurement with low perfusion'),
    why: 'SpO2 from a poorly perfused finger that the oximeter itself questions is not a reading to file unseen',
  },
];

/** Decisions by squashed flag name: codecs name flags in camelCase, other sources in any case. */
const BY_FLAG: ReadonlyMap<string, StatusBitDecision> = new Map(
  STATUS_DECISIONS.map((d) => [squash(d.flag), d]),
);

/** The decision for a flag the codecs name (undefined: not a status bit). */
export function statusDecision(flag: string): StatusBitDecision | undefined {
  return BY_FLAG.get(squash(flag));
}

export interface StatusOutcome {
  /** The first reason that holds the reading (table order, then combinations), if any. */
  readonly quarantine?: Quarantine;
  /** Every bit that travels in the Observation, in table order. */
  readonly carried: readonly StatusCoding[];
  /** A bit says the value is not final yet. */
  readonly notFinal: boolean;
}

const NONE: StatusOutcome = { carried: [], notFinal: false };

/** Applies the table to a measurement's flags. */
export function statusOutcome(flags: readonly string[] | undefined): StatusOutcome {
  if (!flags || flags.length === 0) return NONE;
  // A pure function of a short list drawn from a few dozen names: each combination is worked out once.
  const key = flags.join('|');
  let outcome = OUTCOMES.get(key);
  if (outcome === undefined) {
    outcome = decide(flags);
    if (OUTCOMES.size < 4096) OUTCOMES.set(key, outcome);
  }
  return outcome;
}

/** Outcomes already worked out, by flag list (bounded: names come from the codecs' tables). */
const OUTCOMES = new Map<string, StatusOutcome>();

function decide(flags: readonly string[]): StatusOutcome {
  const held: { readonly code: ErrorCode; readonly reason: string }[] = [];
  let notFinal = false;
  const carried: StatusCoding[] = [];
  const squashed = flags.map(squash);
  for (const flag of squashed) {
    const d = BY_FLAG.get(flag);
    if (!d) continue;
    if (d.decision === 'quarantined' && d.quarantine) held.push(d.quarantine);
    else if (d.decision === 'carried' && d.coding) carried.push(d.coding);
    else if (d.decision === 'not-final') notFinal = true;
  }
  // Every bit that holds the reading is named in its reason; the first one's code classifies it.
  let quarantine: Quarantine | undefined =
    held.length > 0 ? { code: held[0]!.code, reason: held.map((q) => q.reason).join('; ') } : undefined;
  if (!quarantine) {
    for (const c of STATUS_COMBINATIONS) {
      if (c.flags.every((f) => squashed.includes(squash(f)))) {
        quarantine = c.quarantine;
        break;
      }
    }
  }
  // Shared by every reading with the same flags (the cache above): frozen, so no one can change it for the others.
  return Object.freeze({ ...(quarantine ? { quarantine } : {}), carried: Object.freeze(carried), notFinal });
}
