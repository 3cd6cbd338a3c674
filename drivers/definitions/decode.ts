/**
 * Bytes of a characteristic → the device-unit records a definition reads from them, without
 * normalization: what the BLE session hands to the pipeline, which normalizes once. The definition's
 * codec quirks apply while the bytes are read, its measurement quirks to the decoded records. Pure.
 */
import { findCodec } from '../decode.ts';
import type { Measurement } from '../types.ts';
import { applyMeasurementQuirks } from './quirks.ts';
import type { DriverDefinition } from './types.ts';

const quirkSets = new WeakMap<DriverDefinition, ReadonlySet<string>>();

/** The quirk names of a definition as a set (built once per definition). */
export function quirksOf(definition: DriverDefinition): ReadonlySet<string> {
  let q = quirkSets.get(definition);
  if (!q) {
    q = new Set(definition.quirks);
    quirkSets.set(definition, q);
  }
  return q;
}

/** Decodes one GATT value into records (final and intermediate); a refusal throws its MedgwError. */
export function decodeRecords(
  definition: DriverDefinition,
  characteristic: string,
  bytes: Uint8Array,
): Measurement[] {
  const codec = findCodec(characteristic);
  const quirks = quirksOf(definition);
  const fields = codec.decode(bytes, quirks);
  return (codec.toMeasurements?.(fields) ?? []).map((m) => applyMeasurementQuirks(m, quirks));
}
