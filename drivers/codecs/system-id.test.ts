import { describe, expect, it } from 'vitest';
import { parseHex } from '../reader.ts';
import { decodeSystemId, eui64FromWireHex, SYSTEM_ID_OUI_FIRST, wireOrderHex } from './system-id.ts';

describe('System ID 0x2A23', () => {
  it('the quirk system-id-oui-first takes the bytes as they come (a stack that sends OUI first)', () => {
    // zephyr subsys/bluetooth/services/dis.c dis_system_id: OUI >> 16 first, identifier MSO first.
    const bytes = parseHex('c0 26 da ff fe 00 0e 01');
    expect(decodeSystemId(bytes, new Set([SYSTEM_ID_OUI_FIRST])).eui64).toBe('C0-26-DA-FF-FE-00-0E-01');
    // Without it the same bytes are read as the specification says (LSO first): another EUI-64.
    expect(decodeSystemId(bytes).eui64).toBe('01-0E-00-FE-FF-DA-26-C0');
  });

  it('the stored wire-order hex and the canonical EUI-64 map onto each other', () => {
    expect(wireOrderHex('C0-26-DA-FF-FE-00-0E-01')).toBe('010E00FEFFDA26C0');
    expect(eui64FromWireHex('010E00FEFFDA26C0')).toBe('C0-26-DA-FF-FE-00-0E-01');
    expect(eui64FromWireHex('010e00feffda26c0')).toBe('C0-26-DA-FF-FE-00-0E-01');
    expect(eui64FromWireHex('0000000000000000')).toBeUndefined();
    expect(eui64FromWireHex('010E00FEFFDA26')).toBeUndefined();
    expect(eui64FromWireHex('01-0E-00-FE-FF-DA-26-C0')).toBeUndefined();
  });
});
