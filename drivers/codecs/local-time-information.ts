/**
 * Local Time Information 0x2A0F (CTS v1.1 §3.2; GSS "Local Time Information"): Time Zone (sint8, offset
 * from UTC in 15-minute steps, -48..+56, -128 = unknown) and DST Offset (uint8: 0 standard time,
 * 2 half an hour, 4 one hour, 8 two hours daylight time, 255 unknown).
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { enumName } from './bits.ts';

const WHAT = 'Local Time Information';

export const TIME_ZONE_UNKNOWN = -128;

export const DST_OFFSETS = {
  0: 'standard-time',
  2: 'half-an-hour-daylight-time',
  4: 'daylight-time',
  8: 'double-daylight-time',
  255: 'unknown',
} as const;
export type DstOffset = (typeof DST_OFFSETS)[keyof typeof DST_OFFSETS];

const DST_MINUTES: Readonly<Record<DstOffset, number | undefined>> = {
  'standard-time': 0,
  'half-an-hour-daylight-time': 30,
  'daylight-time': 60,
  'double-daylight-time': 120,
  unknown: undefined,
};

export interface LocalTimeInformationFields {
  /** As sent: 15-minute steps from UTC, -128 = unknown. */
  readonly timeZone: number;
  /** The standard-time offset from UTC in minutes (timeZone × 15), omitted when unknown. */
  readonly timeZoneMinutes?: number;
  readonly dstOffset: DstOffset;
  /** Minutes of daylight saving to add, omitted when unknown. */
  readonly dstOffsetMinutes?: number;
}

export function decodeLocalTimeInformation(bytes: Uint8Array): LocalTimeInformationFields {
  const r = new ByteReader(bytes, WHAT);
  const raw = r.u8('timeZone');
  const timeZone = raw >= 0x80 ? raw - 0x100 : raw;
  const dstOffset = enumName(WHAT, 'dstOffset', DST_OFFSETS, r.u8('dstOffset'));
  r.end();
  if (timeZone !== TIME_ZONE_UNKNOWN && (timeZone < -48 || timeZone > 56)) {
    throw new MedgwError(
      'MEDGW_ERR_RESERVED_VALUE',
      `${WHAT}: timeZone ${timeZone} is outside -48..+56 (15-minute steps) and is not -128 (unknown)`,
      { field: 'timeZone', value: timeZone },
    );
  }
  const dstMinutes = DST_MINUTES[dstOffset];
  return {
    timeZone,
    ...(timeZone !== TIME_ZONE_UNKNOWN ? { timeZoneMinutes: timeZone * 15 } : {}),
    dstOffset,
    ...(dstMinutes !== undefined ? { dstOffsetMinutes: dstMinutes } : {}),
  };
}

export const localTimeInformation: CharacteristicCodec<LocalTimeInformationFields> = {
  uuid: '2A0F',
  name: 'local-time-information',
  spec: 'CTS v1.1 §3.2 Local Time Information; GSS Local Time Information (0x2A0F)',
  decode: decodeLocalTimeInformation,
};
