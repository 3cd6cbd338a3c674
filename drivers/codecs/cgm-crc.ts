/**
 * The E2E-CRC of the Continuous Glucose Monitoring service (CGMS v1.0.1, "E2E-CRC"): CRC-CCITT with
 * generator polynomial x^16 + x^12 + x^5 + 1 and seed 0xFFFF, bits taken least significant first, no final
 * XOR — the catalogue's CRC-16/MCRF4XX (reveng CRC catalogue: poly 0x1021, init 0xFFFF, refin/refout true,
 * xorout 0, check 0x6F91), sent little-endian after the field it protects.
 *
 * Shared by the CGM codecs (0x2AA7-0x2AAC); which values carry it is said by CGM Feature bit 12.
 */
import { MedgwError } from '../../kernel/errors.ts';

/** 0x1021 with its bits reversed, for the least-significant-bit-first register. */
const POLY_REFLECTED = 0x8408;

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The E2E-CRC of `bytes[start, end)`. */
export function cgmCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/**
 * How a CGM decoder learns whether the E2E-CRC is there: `true` when the CGM Feature said it is supported
 * (a value without it is refused), `false` when it said not (two extra octets are too long), or
 * `undefined` to tell from the length (the Size field of a 0x2AA7 record, the value length otherwise).
 */
export type CgmCrcExpectation = boolean | undefined;

/**
 * Decides from `length` (octets without a CRC: `base`) whether the value carries an E2E-CRC and checks it
 * against the octets before it. Returns the CRC read, or undefined. Length errors are left to the caller's
 * reader (a cut or over-long value is reported as such, not as a CRC failure).
 */
export function checkCgmCrc(
  what: string,
  bytes: Uint8Array,
  start: number,
  base: number,
  length: number,
  expect: CgmCrcExpectation,
): number | undefined {
  const present = expect ?? length === base + 2;
  if (!present) return undefined;
  if (length < base + 2) {
    throw new MedgwError(
      'MEDGW_ERR_CGM_CRC',
      `${what}: the CGM Feature announces an E2E-CRC, but the value ends after its fields (${length} octet(s), ${base + 2} with the CRC)`,
      { length, expected: base + 2 },
    );
  }
  const at = start + base;
  const sent = bytes[at]! | (bytes[at + 1]! << 8);
  const computed = cgmCrc(bytes, start, at);
  if (sent !== computed) {
    throw new MedgwError(
      'MEDGW_ERR_CGM_CRC',
      `${what}: E2E-CRC 0x${hex4(sent)} does not match the 0x${hex4(computed)} computed over its ${base} octet(s); the value is refused`,
      { sent, computed },
    );
  }
  return sent;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
