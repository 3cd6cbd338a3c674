/**
 * System ID 0x2A23 (DIS v1.1, System ID; GSS "System ID"): a 64-bit structure, Manufacturer Identifier (uint40)
 * then Organizationally Unique Identifier (uint24). Like every multi-octet GATT field it is sent least
 * significant octet first, so the 8 bytes on the air are the EUI-64 reversed: the OUI arrives last.
 * GSS: "the order of transmission of the EUI-64 octets in a Characteristic is LSO-MSO … whereas the
 * representation of an EUI-64 in the IEEE-RA guidelines is MSO-LSO, starts with the OUI".
 *
 * The identity the gateway keeps and sends is the EUI-64 in that canonical order, written as the HL7 PHD
 * IG writes a System-Id (PhdDevice identifier:systemIdIdentifier.value): eight upper-case hex pairs
 * joined by dashes, OUI first (`C0-26-DA-FF-FE-00-0E-01` for a System ID built from the Bluetooth address
 * C0:26:DA:00:0E:01 by the DIS v1.1 rule: OUI, then 0xFFFE, then the company-assigned 24 bits).
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { parseHex } from '../reader.ts';

const WHAT = 'System ID';

/**
 * Quirk for a device whose stack sends the System ID OUI first, most significant octet first (as
 * zephyrproject-rtos/zephyr subsys/bluetooth/services/dis.c `dis_system_id` once did): its bytes are
 * already the EUI-64 in IEEE order. Only a capture that proves it (the OUI of the vendor at the start)
 * justifies giving it to a driver definition, and only before gateways hold such devices: reading ids
 * hash the canonical EUI-64 reversed (drivers/reading-id.ts), so a device already known would get new
 * reading ids and its stored records could be sent again.
 */
export const SYSTEM_ID_OUI_FIRST = 'system-id-oui-first';

/** The PHD IG's value for "no system id" (PhdDevice systemIdIdentifier.value comment): never an identity. */
export const NO_SYSTEM_ID = '00-00-00-00-00-00-00-00';

export interface SystemIdFields {
  /** The EUI-64, canonical order (OUI first), `XX-XX-XX-XX-XX-XX-XX-XX` upper case. */
  readonly eui64: string;
  /** The 24-bit OUI, `XX-XX-XX`. */
  readonly oui: string;
  /** The 40-bit manufacturer-defined identifier, `XX-XX-XX-XX-XX`. */
  readonly manufacturerIdentifier: string;
  /**
   * The Bluetooth address the System ID was built from, when it follows the DIS v1.1 rule (OUI,
   * 0xFFFE, company-assigned 24 bits), `XX-XX-XX-XX-XX-XX`: to compare with the device's address.
   */
  readonly fromEui48?: string;
}

/** `00`…`FF`, looked up rather than formatted for every octet. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, '0').toUpperCase(),
);

/** The octets `from`…`to - 1` of `bytes` as upper-case hex pairs joined by dashes. */
function pairsOf(bytes: Uint8Array, from: number, to: number): string {
  let text = HEX[bytes[from] as number] as string;
  for (let i = from + 1; i < to; i++) text += `-${HEX[bytes[i] as number]}`;
  return text;
}

const pairs = (bytes: Uint8Array): string => pairsOf(bytes, 0, bytes.length);

export function decodeSystemId(bytes: Uint8Array, quirks?: ReadonlySet<string>): SystemIdFields {
  const wire = bytes;
  if (wire.length < 8) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TRUNCATED',
      `${WHAT}: 8 bytes expected (Manufacturer Identifier uint40 + OUI uint24), got ${wire.length}`,
      { field: 'systemId', offset: wire.length, length: wire.length },
    );
  }
  if (wire.length > 8) {
    throw new MedgwError(
      'MEDGW_ERR_FRAME_TOO_LONG',
      `${WHAT}: ${wire.length - 8} byte(s) after the 8 bytes of the System ID`,
      { offset: 8, length: wire.length },
    );
  }
  // Least significant octet first on the air: reversing gives the EUI-64 as IEEE writes it.
  const eui = new Uint8Array(8);
  const ouiFirst = quirks?.has(SYSTEM_ID_OUI_FIRST) === true;
  let or = 0;
  let and = 0xff;
  for (let i = 0; i < 8; i++) {
    const b = wire[ouiFirst ? i : 7 - i] as number;
    eui[i] = b;
    or |= b;
    and &= b;
  }
  if (or === 0 || and === 0xff) {
    // All zeros is the PHD IG's "no system id"; all ones is erased flash (FF-FF-FF sets the group and
    // local bits of an OUI: no device is assigned it). Either would make every such device one identity.
    throw new MedgwError(
      'MEDGW_ERR_RESERVED_VALUE',
      `${WHAT}: ${pairs(eui)} names no device (all zeros is the PHD IG's "no system id"; all ones is unset)`,
      { field: 'systemId', value: pairs(eui) },
    );
  }
  const fromAddress = eui[3] === 0xff && eui[4] === 0xfe;
  const oui = pairsOf(eui, 0, 3);
  const manufacturerIdentifier = pairsOf(eui, 3, 8);
  const eui64 = `${oui}-${manufacturerIdentifier}`;
  return fromAddress
    ? { eui64, oui, manufacturerIdentifier, fromEui48: `${oui}-${pairsOf(eui, 5, 8)}` }
    : { eui64, oui, manufacturerIdentifier };
}

/** A canonical EUI-64 text (`XX-XX-XX-XX-XX-XX-XX-XX`), or undefined for anything else. */
const EUI64_TEXT = /^[0-9A-F]{2}(-[0-9A-F]{2}){7}$/;
export function isEui64Text(text: string): boolean {
  return EUI64_TEXT.test(text);
}

/**
 * The hex the gateway stored before it decoded the System ID: the 8 bytes as received (wire order),
 * upper-case hex without separators. Reading ids and identities already on the national side were
 * made from it; `wireOrderHex('C0-26-DA-FF-FE-00-0E-01')` is `010E00FEFFDA26C0`.
 */
export function wireOrderHex(eui64: string): string {
  return eui64.split('-').reverse().join('');
}

/** The canonical EUI-64 of a System ID stored the old way (8 bytes as received, hex), if it is one. */
export function eui64FromWireHex(hex: string): string | undefined {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) return undefined;
  try {
    return decodeSystemId(parseHex(hex)).eui64;
  } catch {
    return undefined;
  }
}

export const systemId: CharacteristicCodec<SystemIdFields> = {
  uuid: '2A23',
  name: 'system-id',
  spec: 'DIS v1.1 System ID; GSS System ID (0x2A23): uint40 manufacturer identifier + uint24 OUI, LSO first',
  quirks: [SYSTEM_ID_OUI_FIRST],
  decode: decodeSystemId,
};
