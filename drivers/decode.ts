/**
 * One entry point for "bytes of a characteristic → fields + observations", used by `medgw decode`,
 * the fixture runner and the gateway. Pure.
 */
import type { CharacteristicCodec } from './codec.ts';
import { CODECS } from './codecs/index.ts';
import { MedgwError } from './errors.ts';
import type { Observation } from './types.ts';

export interface DecodeResult {
  readonly characteristic: string;
  readonly fields: Record<string, unknown>;
  readonly observations: Observation[];
}

const byKey = new Map<string, CharacteristicCodec<Record<string, unknown>>>();
for (const codec of CODECS) {
  byKey.set(codec.uuid.toUpperCase(), codec);
  byKey.set(codec.name.toLowerCase(), codec);
}

/** Finds a codec by 16-bit UUID (`2A18`, `0x2a18`) or name (`glucose-measurement`). */
export function findCodec(characteristic: string): CharacteristicCodec<Record<string, unknown>> {
  const key = characteristic.trim().replace(/^0x/i, '');
  const codec = byKey.get(key.toUpperCase()) ?? byKey.get(key.toLowerCase());
  if (!codec) {
    throw new MedgwError(
      'MEDGW_ERR_UNKNOWN_CHARACTERISTIC',
      `no codec knows characteristic "${characteristic}"; known: ${CODECS.map((c) => `${c.uuid} (${c.name})`).join(', ') || 'none'}`,
    );
  }
  return codec;
}

export function decodeFrame(characteristic: string, bytes: Uint8Array, _driver?: string): DecodeResult {
  const codec = findCodec(characteristic);
  const fields = codec.decode(bytes);
  return { characteristic: codec.uuid, fields, observations: [] };
}
