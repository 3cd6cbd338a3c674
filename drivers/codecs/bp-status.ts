/**
 * Blood Pressure Measurement Status (uint16) shared by 0x2A35 and 0x2A36, and the bit helpers the
 * health codecs share: named bits out, reserved (RFU) bits refused unless a driver quirk says otherwise.
 */
import { MedgwError } from '../errors.ts';

/** Quirk: reserved (RFU) bits in flags and status fields are ignored instead of refused. */
export const QUIRK_IGNORE_RESERVED_FLAGS = 'ignore-reserved-flags';

/** Names of the set bits of `value`, `names[i]` naming bit i; unnamed (undefined) bits are skipped. */
export function bitNames(value: number, names: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  names.forEach((name, bit) => {
    if (name !== undefined && (value & (1 << bit)) !== 0) out.push(name);
  });
  return out;
}

/** Named booleans for every named bit of `value`. */
export function bitBooleans<N extends string>(value: number, names: readonly N[]): Record<N, boolean> {
  const out = {} as Record<N, boolean>;
  names.forEach((name, bit) => {
    out[name] = (value & (1 << bit)) !== 0;
  });
  return out;
}

/**
 * Refuses reserved bits: `value & reservedMask` must be 0 unless the `ignore-reserved-flags` quirk is set.
 * `what` names the characteristic, `field` the field, for the message.
 */
export function checkReservedBits(
  what: string,
  field: string,
  value: number,
  reservedMask: number,
  quirks?: ReadonlySet<string>,
): void {
  const reserved = value & reservedMask;
  if (reserved === 0 || quirks?.has(QUIRK_IGNORE_RESERVED_FLAGS)) return;
  throw new MedgwError(
    'MEDGW_ERR_RESERVED_VALUE',
    `${what}: ${field} 0x${value.toString(16)} sets reserved bit(s) 0x${reserved.toString(16)}`,
    { field, value, reserved },
  );
}

/** Refuses a reserved enumeration value. */
export function reservedValue(what: string, field: string, value: number): MedgwError {
  return new MedgwError('MEDGW_ERR_RESERVED_VALUE', `${what}: ${field} ${value} is reserved for future use`, {
    field,
    value,
  });
}

/** Named flags of the Blood Pressure Measurement Status field, in bit order (GSS, Blood Pressure Measurement). */
export type BpStatusFlag =
  | 'bodyMovement'
  | 'cuffFitLoose'
  | 'irregularPulse'
  | 'pulseRateExceedsUpperLimit'
  | 'pulseRateBelowLowerLimit'
  | 'improperMeasurementPosition';

/**
 * Measurement Status bits (BLS v1.0 / GSS 0x2A35): 0 body movement, 1 cuff too loose,
 * 2 irregular pulse, 3–4 pulse-rate range (0 in range, 1 above upper limit, 2 below lower limit, 3 RFU),
 * 5 improper measurement position, 6–15 RFU.
 */
export function decodeBpStatus(what: string, status: number, quirks?: ReadonlySet<string>): BpStatusFlag[] {
  checkReservedBits(what, 'measurementStatus', status, 0xffc0, quirks);
  const flags: BpStatusFlag[] = [];
  if (status & 0x01) flags.push('bodyMovement');
  if (status & 0x02) flags.push('cuffFitLoose');
  if (status & 0x04) flags.push('irregularPulse');
  const range = (status >> 3) & 0x03;
  if (range === 1) flags.push('pulseRateExceedsUpperLimit');
  else if (range === 2) flags.push('pulseRateBelowLowerLimit');
  else if (range === 3 && !quirks?.has(QUIRK_IGNORE_RESERVED_FLAGS)) {
    throw reservedValue(what, 'measurementStatus.pulseRateRange', range);
  }
  if (status & 0x20) flags.push('improperMeasurementPosition');
  return flags;
}
