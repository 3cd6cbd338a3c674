/**
 * PLX Measurement Status (uint16) and Device and Sensor Status (uint24), shared by PLX Spot-Check 0x2A5E,
 * PLX Continuous 0x2A5F and the support fields of PLX Features 0x2A60 (PLXS v1.0,
 * GSS "PLX Spot-Check Measurement").
 */
import type { MeasurementComponent, MedNumber } from '../types.ts';
import { bitNames, refuseReservedBits } from './bits.ts';

/** Measurement Status bits 5–15 (bits 0–4 RFU). */
export const PLX_MEASUREMENT_STATUS: readonly (string | undefined)[] = [
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  'measurementOngoing',
  'earlyEstimatedData',
  'validatedData',
  'fullyQualifiedData',
  'dataFromMeasurementStorage',
  'dataForDemonstration',
  'dataForTesting',
  'calibrationOngoing',
  'measurementUnavailable',
  'questionableMeasurementDetected',
  'invalidMeasurementDetected',
];

/** Device and Sensor Status bits 0–15 (bits 16–23 RFU). */
export const PLX_DEVICE_AND_SENSOR_STATUS: readonly string[] = [
  'extendedDisplayUpdateOngoing',
  'equipmentMalfunctionDetected',
  'signalProcessingIrregularityDetected',
  'inadequateSignalDetected',
  'poorSignalDetected',
  'lowPerfusionDetected',
  'erraticSignalDetected',
  'nonpulsatileSignalDetected',
  'questionablePulseDetected',
  'signalAnalysisOngoing',
  'sensorInterferenceDetected',
  'sensorUnconnectedToUser',
  'unknownSensorConnected',
  'sensorDisplaced',
  'sensorMalfunctioning',
  'sensorDisconnected',
];

export function decodePlxMeasurementStatus(
  what: string,
  field: string,
  value: number,
  quirks?: ReadonlySet<string>,
): string[] {
  refuseReservedBits(what, field, value, 0x001f, quirks);
  return bitNames(value, PLX_MEASUREMENT_STATUS);
}

export function decodePlxDeviceAndSensorStatus(
  what: string,
  field: string,
  value: number,
  quirks?: ReadonlySet<string>,
): string[] {
  refuseReservedBits(what, field, value, 0xff0000, quirks);
  return bitNames(value, PLX_DEVICE_AND_SENSOR_STATUS);
}

/** An SpO2 + pulse-rate pair (one SpO2PR set). */
export interface SpO2PR {
  readonly spo2: MedNumber;
  readonly pulseRate: MedNumber;
}

/** Measurement statuses after which a value is not final (still being measured or estimated). */
const NOT_FINAL = new Set(['measurementOngoing', 'earlyEstimatedData']);

export function plxIsFinal(measurementStatus: readonly string[] | undefined): boolean {
  return !(measurementStatus ?? []).some((s) => NOT_FINAL.has(s));
}

export function plxComponents(pair: SpO2PR, pai?: MedNumber): MeasurementComponent[] {
  const components: MeasurementComponent[] = [
    { name: 'spo2', value: pair.spo2, unit: '%' },
    { name: 'pulse', value: pair.pulseRate, unit: '/min' },
  ];
  if (pai) components.push({ name: 'pulse-amplitude-index', value: pai, unit: '%' });
  return components;
}
