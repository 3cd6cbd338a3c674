/**
 * CGM Session Start Time 0x2AAA (CGMS v1.0.1 "CGM Session Start Time"; GSS): Session Start Time (Date
 * Time, 7 octets), Time Zone (sint8, 15-minute steps) and DST Offset (uint8) laid out as Local Time
 * Information 0x2A0F, then the E2E-CRC (uint16) when the CGM Feature supports it. Every record's time is
 * this start plus its Time Offset.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime } from '../types.ts';
import { type CgmCrcExpectation, checkCgmCrc } from './cgm-crc.ts';
import { decodeLocalTimeInformation, type LocalTimeInformationFields } from './local-time-information.ts';

const WHAT = 'CGM Session Start Time';

export interface CgmSessionStartTimeFields extends LocalTimeInformationFields {
  readonly sessionStartTime: DeviceDateTime;
  readonly e2eCrc?: number;
}

export function decodeCgmSessionStartTime(
  bytes: Uint8Array,
  e2eCrc?: CgmCrcExpectation,
): CgmSessionStartTimeFields {
  const r = new ByteReader(bytes, WHAT);
  const sessionStartTime = r.dateTime('sessionStartTime');
  const zone = r.u8('timeZone');
  const dst = r.u8('dstOffset');
  const crc = checkCgmCrc(WHAT, bytes, 0, r.position, bytes.length, e2eCrc);
  if (crc !== undefined) r.u16('e2eCrc');
  r.end();
  return {
    sessionStartTime,
    ...decodeLocalTimeInformation(Uint8Array.of(zone, dst)),
    ...(crc !== undefined ? { e2eCrc: crc } : {}),
  };
}

export const cgmSessionStartTime: CharacteristicCodec<CgmSessionStartTimeFields> = {
  uuid: '2AAA',
  name: 'cgm-session-start-time',
  spec: 'CGMS v1.0.1 CGM Session Start Time; GSS CGM Session Start Time (0x2AAA)',
  decode: (bytes) => decodeCgmSessionStartTime(bytes),
};
