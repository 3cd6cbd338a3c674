/**
 * UDI for Medical Devices 0x2BFF (DIS v1.2; GSS "UDI for Medical Devices"): Flags (uint8: bit 0 UDI Label,
 * bit 1 UDI Device Identifier, bit 2 UDI Issuer, bit 3 UDI Authority present; bits 4-7 RFU), then each
 * present part as a null-terminated UTF-8 string, in that order. Read once per connection with the
 * other Device Information characteristics; the parts go to the PhdDevice (`udiCarrier`). The layout as
 * a shipping DIS server writes it: zephyrproject-rtos/zephyr subsys/bluetooth/services/dis.c `read_udi`.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import type { DeviceUdi } from '../types.ts';
import { refuseReservedBits } from './bits.ts';

const WHAT = 'UDI for Medical Devices';
const PARTS = ['label', 'deviceIdentifier', 'issuer', 'authority'] as const;
/** One decoder for every frame (non-fatal: a stray byte becomes U+FFFD rather than refusing the identity). */
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 text of bytes[from, to): ASCII (every UDI the issuing agencies define) read directly, the rest decoded. */
function text(bytes: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const b = bytes[i] as number;
    if (b >= 0x80) return UTF8.decode(bytes.subarray(from, to));
    out += String.fromCharCode(b);
  }
  return out;
}

export function decodeUdi(bytes: Uint8Array, quirks?: ReadonlySet<string>): DeviceUdi {
  if (bytes.length < 1) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TRUNCATED',
      `${WHAT}: field "flags" needs 1 byte, the frame is empty`,
      {
        field: 'flags',
        offset: 0,
        length: 0,
      },
    );
  }
  const flags = bytes[0] as number;
  refuseReservedBits(WHAT, 'flags', flags, 0xf0, quirks);
  const out: Record<string, string> = {};
  let at = 1;
  PARTS.forEach((part, bit) => {
    if ((flags & (1 << bit)) === 0) return;
    const end = bytes.indexOf(0, at);
    if (end < 0) {
      throw new MedgwError(
        'MEDGW_ERR_FRAME_TRUNCATED',
        `${WHAT}: field "${part}" has no terminating null (offset ${at})`,
        { field: part, offset: at, length: bytes.length },
      );
    }
    out[part] = text(bytes, at, end);
    at = end + 1;
  });
  if (at !== bytes.length) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TOO_LONG',
      `${WHAT}: ${bytes.length - at} byte(s) after the last part the flags announce (offset ${at})`,
      { offset: at, length: bytes.length },
    );
  }
  return out as DeviceUdi;
}

export const udiForMedicalDevices: CharacteristicCodec<DeviceUdi> = {
  uuid: '2BFF',
  name: 'udi-for-medical-devices',
  spec: 'DIS v1.2 UDI for Medical Devices; GSS UDI for Medical Devices (0x2BFF): flags + null-terminated parts',
  decode: decodeUdi,
};
