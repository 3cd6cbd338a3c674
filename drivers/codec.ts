/**
 * The contract of one characteristic codec (one file per characteristic under drivers/codecs/).
 * Pure: bytes in, camelCase spec fields out, or a thrown MedgwError. Measurement characteristics also
 * turn their fields into device-unit Measurements; normalization (drivers/normalize) does the rest.
 */
import type { Measurement } from './types.ts';

export interface CharacteristicCodec<F extends object = Record<string, unknown>> {
  /** 16-bit UUID, upper-case hex without 0x: `2A18`. */
  readonly uuid: string;
  /** Kebab-case name used on the command line: `glucose-measurement`. */
  readonly name: string;
  /** The specification clause the layout follows (cited, one line). */
  readonly spec: string;
  /** Quirk names this codec understands (set by driver definitions), each documented where handled. */
  readonly quirks?: readonly string[];
  /** Decodes one value; throws MedgwError (FRAME_TRUNCATED, FRAME_TOO_LONG, RESERVED_VALUE…). */
  decode(bytes: Uint8Array, quirks?: ReadonlySet<string>): F;
  /** For measurement characteristics: the readings the fields carry, in device units (empty if none). */
  toMeasurements?(fields: F): Measurement[];
}
