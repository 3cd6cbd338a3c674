/**
 * CGM Session Run Time 0x2AAB (CGMS v1.0.1 "CGM Session Run Time"; GSS): the expected run time of the
 * session in hours (uint16), then the E2E-CRC (uint16) when the CGM Feature supports it.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { type CgmCrcExpectation, checkCgmCrc } from './cgm-crc.ts';

const WHAT = 'CGM Session Run Time';

export interface CgmSessionRunTimeFields {
  /** Hours. */
  readonly sessionRunTime: number;
  readonly e2eCrc?: number;
}

export function decodeCgmSessionRunTime(
  bytes: Uint8Array,
  e2eCrc?: CgmCrcExpectation,
): CgmSessionRunTimeFields {
  const r = new ByteReader(bytes, WHAT);
  const sessionRunTime = r.u16('sessionRunTime');
  const crc = checkCgmCrc(WHAT, bytes, 0, r.position, bytes.length, e2eCrc);
  if (crc !== undefined) r.u16('e2eCrc');
  r.end();
  return { sessionRunTime, ...(crc !== undefined ? { e2eCrc: crc } : {}) };
}

export const cgmSessionRunTime: CharacteristicCodec<CgmSessionRunTimeFields> = {
  uuid: '2AAB',
  name: 'cgm-session-run-time',
  spec: 'CGMS v1.0.1 CGM Session Run Time; GSS CGM Session Run Time (0x2AAB)',
  decode: (bytes) => decodeCgmSessionRunTime(bytes),
};
