/**
 * Current Time 0x2A2B (CTS v1.1 §3.1; GSS "Current Time", "Exact Time 256", "Day of Week"): Exact Time 256
 * (Date Time 7 bytes + Day of Week uint8 + Fractions256 uint8) then Adjust Reason (uint8 bits: 0 manual
 * time update, 1 external reference time update, 2 change of time zone, 3 change of DST; 4-7 RFU).
 * 10 bytes. Decoded when read or notified; encoded by the gateway to set a device clock.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { encodeDateTime } from '../datetime.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime } from '../types.ts';
import { enumCode, enumName, IGNORE_RESERVED_FLAGS, namedBits, refuseReservedBits } from './bits.ts';

const WHAT = 'Current Time';

/** Day of Week (GSS 0x2A09): 0 unknown, 1 Monday … 7 Sunday, 8-255 RFU. */
export const DAYS_OF_WEEK = {
  0: 'unknown',
  1: 'monday',
  2: 'tuesday',
  3: 'wednesday',
  4: 'thursday',
  5: 'friday',
  6: 'saturday',
  7: 'sunday',
} as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[keyof typeof DAYS_OF_WEEK];

export const ADJUST_REASONS = [
  'manualTimeUpdate',
  'externalReferenceTimeUpdate',
  'changeOfTimeZone',
  'changeOfDst',
] as const;
export type AdjustReasonName = (typeof ADJUST_REASONS)[number];
export type AdjustReason = Readonly<Record<AdjustReasonName, boolean>>;

const ADJUST_REASON_RESERVED = 0xf0;

export interface CurrentTimeFields {
  readonly dateTime: DeviceDateTime;
  readonly dayOfWeek: DayOfWeek;
  /** 1/256 fractions of a second. */
  readonly fractions256: number;
  readonly adjustReason: AdjustReason;
}

export function decodeCurrentTime(bytes: Uint8Array, quirks?: ReadonlySet<string>): CurrentTimeFields {
  const r = new ByteReader(bytes, WHAT);
  const dateTime = r.dateTime('dateTime');
  const dayOfWeek = enumName(WHAT, 'dayOfWeek', DAYS_OF_WEEK, r.u8('dayOfWeek'));
  const fractions256 = r.u8('fractions256');
  const adjust = r.u8('adjustReason');
  r.end();
  refuseReservedBits(WHAT, 'adjustReason', adjust, ADJUST_REASON_RESERVED, quirks);
  return { dateTime, dayOfWeek, fractions256, adjustReason: namedBits(adjust, ADJUST_REASONS) };
}

/**
 * Encodes a Current Time value (10 bytes) for a write that sets a device clock. `dayOfWeek` is a name
 * or its number (0 unknown, 1 Monday … 7 Sunday); `adjustReason` names the bits to set.
 */
export function encodeCurrentTime(
  dateTime: DeviceDateTime,
  dayOfWeek: DayOfWeek | number,
  fractions256: number,
  adjustReason: Partial<Record<AdjustReasonName, boolean>> = {},
): Uint8Array {
  const dow = typeof dayOfWeek === 'number' ? dayOfWeek : enumCode(DAYS_OF_WEEK, dayOfWeek);
  if (dow === undefined || !Number.isInteger(dow) || dow < 0 || dow > 7) {
    throw new MedgwError(
      'MEDGW_ERR_DATETIME',
      `${WHAT}: day of week ${String(dayOfWeek)} is not 0 (unknown), 1 (Monday) … 7 (Sunday) or a day name`,
    );
  }
  if (!Number.isInteger(fractions256) || fractions256 < 0 || fractions256 > 255) {
    throw new MedgwError(
      'MEDGW_ERR_DATETIME',
      `${WHAT}: fractions256 ${fractions256} is not an integer 0-255`,
    );
  }
  let adjust = 0;
  for (const [name, set] of Object.entries(adjustReason)) {
    const bit = ADJUST_REASONS.indexOf(name as AdjustReasonName);
    if (bit < 0) {
      throw new MedgwError(
        'MEDGW_ERR_DATETIME',
        `${WHAT}: unknown adjust reason "${name}"; use ${ADJUST_REASONS.join(', ')}`,
      );
    }
    if (set) adjust |= 1 << bit;
  }
  const out = new Uint8Array(10);
  out.set(encodeDateTime(dateTime), 0);
  out[7] = dow;
  out[8] = fractions256;
  out[9] = adjust;
  return out;
}

export const currentTime: CharacteristicCodec<CurrentTimeFields> = {
  uuid: '2A2B',
  name: 'current-time',
  spec: 'CTS v1.1 §3.1 Current Time; GSS Current Time (0x2A2B)',
  quirks: [IGNORE_RESERVED_FLAGS],
  decode: decodeCurrentTime,
};
