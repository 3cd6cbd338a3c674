/**
 * IEEE 11073-20601 numeric types as carried by the Bluetooth SIG health profiles.
 * SFLOAT: 16 bits, 4-bit two's-complement exponent, 12-bit two's-complement mantissa.
 * FLOAT: 32 bits, 8-bit two's-complement exponent, 24-bit two's-complement mantissa.
 * Special values (exponent 0, reserved mantissas) become a data-absent reason, never a number
 * (IEEE 11073-20601 §F.8; HL7 FHIR PHD IG, "FLOATs and SFLOATs").
 */
import { MedgwError } from '../kernel/errors.ts';
import type { DataAbsentReason, DecimalValue, MedNumber } from './types.ts';

const SFLOAT_SPECIAL: ReadonlyMap<number, DataAbsentReason> = new Map([
  [0x07ff, 'not-a-number'],
  [0x0800, 'error'], // NRes: not at this resolution
  [0x07fe, 'positive-infinity'],
  [0x0802, 'negative-infinity'],
  [0x0801, 'error'], // reserved for future use
]);

const FLOAT_SPECIAL: ReadonlyMap<number, DataAbsentReason> = new Map([
  [0x007fffff, 'not-a-number'],
  [0x00800000, 'error'],
  [0x007ffffe, 'positive-infinity'],
  [0x00800002, 'negative-infinity'],
  [0x00800001, 'error'],
]);

/** Builds a decimal from mantissa and exponent, with the plain value rounded to the exponent's digits. */
export function decimal(mantissa: number, exponent: number): DecimalValue {
  // Parsing the decimal text gives the nearest double to the exact decimal (37.6, not 37.60000000000001),
  // for any exponent an IEEE 11073 FLOAT can carry (−128…127).
  const value = Number(`${mantissa}e${exponent}`);
  return { mantissa, exponent, value };
}

export function isAbsent(n: MedNumber): n is { absent: DataAbsentReason; raw: number } {
  return 'absent' in n;
}

/** Decodes an SFLOAT given as its uint16 value (already assembled from the little-endian bytes). */
export function decodeSfloat(raw: number): MedNumber {
  const special = SFLOAT_SPECIAL.get(raw);
  if (special) return { absent: special, raw };
  let mantissa = raw & 0x0fff;
  if (mantissa >= 0x0800) mantissa -= 0x1000;
  let exponent = raw >> 12;
  if (exponent >= 0x8) exponent -= 0x10;
  return decimal(mantissa, exponent);
}

/** Decodes a FLOAT given as its uint32 value. */
export function decodeFloat(raw: number): MedNumber {
  const special = FLOAT_SPECIAL.get(raw >>> 0);
  if (special) return { absent: special, raw: raw >>> 0 };
  let mantissa = raw & 0x00ffffff;
  if (mantissa >= 0x00800000) mantissa -= 0x01000000;
  let exponent = (raw >>> 24) & 0xff;
  if (exponent >= 0x80) exponent -= 0x100;
  return decimal(mantissa, exponent);
}

/** Encodes an SFLOAT (uint16) from mantissa and exponent; refuses what does not fit. */
export function encodeSfloat(mantissa: number, exponent: number): number {
  if (!Number.isInteger(mantissa) || mantissa < -2045 || mantissa > 2045 || exponent < -8 || exponent > 7) {
    throw new MedgwError('MEDGW_ERR_FLOAT_RANGE', `SFLOAT cannot hold ${mantissa}e${exponent}`);
  }
  return ((exponent & 0xf) << 12) | (mantissa & 0x0fff);
}

/** Encodes a FLOAT (uint32) from mantissa and exponent; refuses what does not fit. */
export function encodeFloat(mantissa: number, exponent: number): number {
  if (
    !Number.isInteger(mantissa) ||
    mantissa < -8388605 ||
    mantissa > 8388605 ||
    exponent < -128 ||
    exponent > 127
  ) {
    throw new MedgwError('MEDGW_ERR_FLOAT_RANGE', `FLOAT cannot hold ${mantissa}e${exponent}`);
  }
  return (((exponent & 0xff) << 24) | (mantissa & 0x00ffffff)) >>> 0;
}

/** Writes a decimal or special value back to its SFLOAT raw form (for round trips and simulators). */
export const SFLOAT_RAW: Readonly<Record<DataAbsentReason | 'nres' | 'reserved', number>> = {
  'not-a-number': 0x07ff,
  error: 0x0800,
  nres: 0x0800,
  'positive-infinity': 0x07fe,
  'negative-infinity': 0x0802,
  reserved: 0x0801,
};
