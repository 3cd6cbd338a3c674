/**
 * CGM Status 0x2AA9 (CGMS v1.0.1 "CGM Status"; GSS "CGM Status"): Time Offset (uint16, minutes since the
 * session start), CGM Status (the 24-bit Sensor Status Annunciation: Status, Cal/Temp, Warning octets),
 * then the E2E-CRC (uint16) when the CGM Feature supports it.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { type CgmCrcExpectation, checkCgmCrc } from './cgm-crc.ts';
import { decodeCgmSensorStatus } from './cgm-sensor-status.ts';

const WHAT = 'CGM Status';

export interface CgmStatusFields {
  readonly timeOffset: number;
  /** Names of the set annunciation bits. */
  readonly status: string[];
  readonly e2eCrc?: number;
}

export function decodeCgmStatus(
  bytes: Uint8Array,
  quirks?: ReadonlySet<string>,
  e2eCrc?: CgmCrcExpectation,
): CgmStatusFields {
  const r = new ByteReader(bytes, WHAT);
  const timeOffset = r.u16('timeOffset');
  const raw = r.u24('status');
  const crc = checkCgmCrc(WHAT, bytes, 0, r.position, bytes.length, e2eCrc);
  if (crc !== undefined) r.u16('e2eCrc');
  r.end();
  return {
    timeOffset,
    status: decodeCgmSensorStatus(WHAT, 'status', raw, quirks),
    ...(crc !== undefined ? { e2eCrc: crc } : {}),
  };
}

export const cgmStatus: CharacteristicCodec<CgmStatusFields> = {
  uuid: '2AA9',
  name: 'cgm-status',
  spec: 'CGMS v1.0.1 CGM Status; GSS CGM Status (0x2AA9)',
  quirks: ['ignore-reserved-flags'],
  decode: (bytes, quirks) => decodeCgmStatus(bytes, quirks),
};
