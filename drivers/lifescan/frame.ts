/**
 * LifeScan OneTouch framing over BLE (OneTouch Verio Reflect / Flex), pure.
 *
 * Sources (protocol knowledge only; no code copied):
 * - Tidepool uploader, BSD-2-Clause, lib/drivers/onetouch/oneTouchVerioBLE.js at commit
 *   01858093192408ce3499763af07aa5a40452acb0: `buildPacket` writes 0x01, STX 0x02, length (packet size − 1,
 *   little-endian 16-bit), the command prefix 0x03, the payload, ETX 0x03, then `crc.calcCRC_A` over STX…ETX,
 *   little-endian; a notification of one byte is a link acknowledgement (`value & 0x81 === 0x81`); the
 *   payload of a response is the bytes between the 5-byte head and ETX + CRC, its first byte 0x06 on success.
 * - Tidepool uploader lib/crc.js (commit 039a38f51677401efbe673e6ed6ed65a11249369): `calcCRC_A` is the
 *   table CRC-16 with polynomial 0x1021 seeded 0xFFFF, no final XOR; its test vector from "Asante's and J&J's
 *   documentation": 02 06 06 03 → 0x41CD.
 * - glucometers-tech/glucometer-protocols src/lifescan/shared-binary-protocol.md (CC-BY-SA-4.0, commit
 *   d0234c5bb34ca3580a6b37ed684c7cb182e07f70): packet = STX length link-control command-prefix message ETX
 *   checksum; the length covers the whole packet; a response is command-prefix status…, success 0x06,
 *   "data should not be considered a valid response if the status is not success".
 */
import { MedgwError } from '../../kernel/errors.ts';

export const STX = 0x02;
export const ETX = 0x03;
/** The command prefix the Verio BLE driver sends (Tidepool `DATA_DELIMITER`), echoed in responses. */
export const COMMAND_PREFIX = 0x03;
/** The byte before STX in every packet Tidepool's `buildPacket` writes. */
export const PACKET_HEADER = 0x01;
/** A one-byte notification with these bits set is a link acknowledgement; the host answers with it too. */
export const LINK_ACK = 0x81;
/** Response status "success" (shared binary protocol). */
export const STATUS_SUCCESS = 0x06;

/** Header byte, STX, 16-bit length, command prefix … ETX, 16-bit CRC. */
const HEAD = 5;
const TAIL = 3;

/** The CRC of each high byte, shifted through the polynomial 0x1021 eight times. */
const CRC_STEP = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[n] = crc;
  }
  return t;
})();

/** CRC-16 with polynomial 0x1021 seeded 0xFFFF, no reflection, no final XOR (Tidepool `calcCRC_A`). */
export function lifescanCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC_STEP[(crc >> 8) ^ bytes[i]!]!;
  return crc;
}

/** A host command packet: 0x01, STX, length, prefix 0x03, the command bytes, ETX, CRC (little-endian). */
export function encodeLifescanPacket(command: readonly number[]): Uint8Array {
  const size = command.length + HEAD + TAIL;
  const out = new Uint8Array(size);
  out[0] = PACKET_HEADER;
  out[1] = STX;
  out[2] = (size - 1) & 0xff;
  out[3] = ((size - 1) >> 8) & 0xff;
  out[4] = COMMAND_PREFIX;
  out.set(command, HEAD);
  out[size - 3] = ETX;
  const crc = lifescanCrc(out, 1, size - 2);
  out[size - 2] = crc & 0xff;
  out[size - 1] = crc >> 8;
  return out;
}

/** One notification of the meter, checked: a link acknowledgement, or a response with its status. */
export type LifescanFrame =
  | { readonly ack: true }
  | {
      readonly ack: false;
      /** The byte before STX as sent. */
      readonly header: number;
      /** 0x06 success; anything else is a refusal. */
      readonly status: number;
      /** The response bytes after the status. */
      readonly data: Uint8Array;
    };

const WHAT = 'LifeScan frame';

/**
 * Checks and opens a notification: length, STX, prefix, ETX and CRC. A cut frame is
 * MEDGW_ERR_FRAME_TRUNCATED, a longer one MEDGW_ERR_FRAME_TOO_LONG, a wrong marker MEDGW_ERR_LIFESCAN_FRAME
 * and a CRC mismatch MEDGW_ERR_LIFESCAN_CRC.
 */
export function decodeLifescanFrame(bytes: Uint8Array): LifescanFrame {
  if (bytes.length === 1) {
    if ((bytes[0]! & LINK_ACK) === LINK_ACK) return { ack: true };
    throw new MedgwError(
      'MEDGW_ERR_LIFESCAN_FRAME',
      `${WHAT}: a one-byte notification 0x${hex(bytes[0]!)} is not a link acknowledgement`,
    );
  }
  // The smallest response is head + status + tail.
  if (bytes.length < HEAD + 1 + TAIL) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TRUNCATED',
      `${WHAT}: ${bytes.length} bytes, a response has at least ${HEAD + 1 + TAIL}`,
    );
  }
  if (bytes[1] !== STX || bytes[4] !== COMMAND_PREFIX) {
    throw new MedgwError(
      'MEDGW_ERR_LIFESCAN_FRAME',
      `${WHAT}: expected STX 0x02 and prefix 0x03, got 0x${hex(bytes[1]!)} and 0x${hex(bytes[4]!)}`,
    );
  }
  const announced = bytes[2]! | (bytes[3]! << 8);
  if (announced + 1 > bytes.length) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TRUNCATED',
      `${WHAT}: the length field announces ${announced + 1} bytes, ${bytes.length} arrived`,
    );
  }
  if (announced + 1 < bytes.length) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TOO_LONG',
      `${WHAT}: the length field announces ${announced + 1} bytes, ${bytes.length} arrived`,
    );
  }
  const size = bytes.length;
  if (bytes[size - 3] !== ETX) {
    throw new MedgwError('MEDGW_ERR_LIFESCAN_FRAME', `${WHAT}: no ETX 0x03 before the CRC`);
  }
  const sent = bytes[size - 2]! | (bytes[size - 1]! << 8);
  const computed = lifescanCrc(bytes, 1, size - 2);
  if (sent !== computed) {
    throw new MedgwError(
      'MEDGW_ERR_LIFESCAN_CRC',
      `${WHAT}: CRC 0x${sent.toString(16).padStart(4, '0')} sent, 0x${computed.toString(16).padStart(4, '0')} computed`,
    );
  }
  return {
    ack: false,
    header: bytes[0]!,
    status: bytes[HEAD]!,
    data: bytes.slice(HEAD + 1, size - TAIL),
  };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
