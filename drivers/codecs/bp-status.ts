/**
 * Blood Pressure Measurement Status (uint16) shared by 0x2A35 and 0x2A36, as named flags.
 */
import { IGNORE_RESERVED_FLAGS, refuseReservedBits, reservedValue } from './bits.ts';

/** Named flags of the Blood Pressure Measurement Status field, in bit order (GSS, Blood Pressure Measurement). */
export const BP_STATUS_FLAGS = [
  'bodyMovement',
  'cuffFitLoose',
  'irregularPulse',
  'pulseRateExceedsUpperLimit',
  'pulseRateBelowLowerLimit',
  'improperMeasurementPosition',
] as const;
export type BpStatusFlag = (typeof BP_STATUS_FLAGS)[number];

/**
 * Measurement Status bits (BLS v1.0 / GSS 0x2A35): 0 body movement, 1 cuff too loose,
 * 2 irregular pulse, 3–4 pulse-rate range (0 in range, 1 above upper limit, 2 below lower limit, 3 RFU),
 * 5 improper measurement position, 6–15 RFU.
 */
export function decodeBpStatus(what: string, status: number, quirks?: ReadonlySet<string>): BpStatusFlag[] {
  refuseReservedBits(what, 'measurementStatus', status, 0xffc0, quirks);
  const flags: BpStatusFlag[] = [];
  if (status & 0x01) flags.push('bodyMovement');
  if (status & 0x02) flags.push('cuffFitLoose');
  if (status & 0x04) flags.push('irregularPulse');
  const range = (status >> 3) & 0x03;
  if (range === 1) flags.push('pulseRateExceedsUpperLimit');
  else if (range === 2) flags.push('pulseRateBelowLowerLimit');
  else if (range === 3 && !quirks?.has(IGNORE_RESERVED_FLAGS)) {
    throw reservedValue(what, 'measurementStatus.pulseRateRange', range);
  }
  if (status & 0x20) flags.push('improperMeasurementPosition');
  return flags;
}
