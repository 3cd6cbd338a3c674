/**
 * One entry point for "bytes of a characteristic → fields + observations", used by `medgw decode`,
 * the fixture runner and the gateway. Pure.
 *
 * With a driver id, the definition's quirks apply: codec quirks while the bytes are read, measurement
 * quirks (drivers/definitions/quirks.ts) before normalization. Without one, the generic profile driver
 * reads the frame as the specification says.
 */

import { MedgwError } from '../kernel/errors.ts';
import type { CharacteristicCodec } from './codec.ts';
import { CODECS } from './codecs/index.ts';
import { findDefinition } from './definitions/index.ts';
import { applyMeasurementQuirks } from './definitions/quirks.ts';
import { type NormalizeOptions, normalize } from './normalize/index.ts';
import type { Measurement, Observation } from './types.ts';

export interface DecodeResult {
  readonly characteristic: string;
  readonly fields: Record<string, unknown>;
  readonly observations: Observation[];
  /** The device-unit readings the fields carry (what the gateway journals and attributes). */
  readonly measurements?: Measurement[];
}

const byKey = new Map<string, CharacteristicCodec<Record<string, unknown>>>();
for (const codec of CODECS) {
  byKey.set(codec.uuid.toUpperCase(), codec);
  byKey.set(codec.name.toLowerCase(), codec);
}

/** Finds a codec by 16-bit UUID (`2A18`, `0x2a18`, the 128-bit base UUID form) or name (`glucose-measurement`). */
export function findCodec(characteristic: string): CharacteristicCodec<Record<string, unknown>> {
  // The gateway names characteristics the way the table keys them (`2A18`): no normalizing needed.
  const exact = byKey.get(characteristic);
  if (exact) return exact;
  const key = characteristic
    .trim()
    .replace(/^0x/i, '')
    .replace(/^0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb$/i, '$1');
  const codec = byKey.get(key.toUpperCase()) ?? byKey.get(key.toLowerCase());
  if (!codec) {
    throw new MedgwError(
      'MEDGW_ERR_UNKNOWN_CHARACTERISTIC',
      `no codec knows characteristic "${characteristic}"; known: ${CODECS.map((c) => `${c.uuid} (${c.name})`).join(', ') || 'none'}`,
    );
  }
  return codec;
}

/** The quirks of the generic profile driver: none (shared, never written to). */
const NO_QUIRKS: ReadonlySet<string> = new Set<string>();

/**
 * Decodes one GATT value. `driver` names a definition whose quirks apply (MEDGW_ERR_UNKNOWN_DRIVER when
 * none has that id). Observations come from normalization; without a coincident timestamp in `options`
 * their time quality is `untrusted`.
 */
export function decodeFrame(
  characteristic: string,
  bytes: Uint8Array,
  driver?: string,
  options: NormalizeOptions = {},
): DecodeResult {
  const codec = findCodec(characteristic);
  const quirks = driver !== undefined ? new Set<string>(findDefinition(driver).quirks) : NO_QUIRKS;
  const fields = codec.decode(bytes, quirks);
  const measurements = (codec.toMeasurements?.(fields) ?? []).map((m) => applyMeasurementQuirks(m, quirks));
  const observations = measurements.flatMap((m) => normalize(m, options));
  return { characteristic: codec.uuid, fields, observations, measurements };
}
