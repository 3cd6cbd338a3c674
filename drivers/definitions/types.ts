/**
 * A driver definition: one file per device model or family, built from reusable profile blocks.
 * `{ id, vendor, model, match: { ble: { services, localName?, manufacturerId? } }, profiles, quirks }`.
 */
import type { DeviceProfile } from '../profiles/index.ts';

/** What a BLE advertisement tells before connecting (service UUIDs as 16-bit upper-case hex or 128-bit). */
export interface Advertisement {
  readonly localName?: string;
  readonly serviceUuids: readonly string[];
  /** Bluetooth SIG company identifier from the manufacturer-specific data (first two bytes, LE). */
  readonly manufacturerId?: number;
}

export interface BleMatch {
  /** Services the device advertises (all must be present), 16-bit upper-case hex. */
  readonly services: readonly string[];
  /** A pattern the advertised local name must match. */
  readonly localName?: RegExp;
  readonly manufacturerId?: number;
}

export type Pairing = 'just-works' | 'passkey' | 'none';

export interface DriverDefinition {
  /** Kebab-case id, unique: `beurer-bm85`, `generic-glucose`. */
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  /** True for the generic profile drivers: they work for any standards-conforming device of the service. */
  readonly generic: boolean;
  readonly description: string;
  readonly match: { readonly ble: BleMatch };
  /** Profile blocks the BLE central runs, the measurement profile first. */
  readonly profiles: readonly DeviceProfile[];
  /** Quirk names: codec quirks (CharacteristicCodec.quirks) or measurement quirks (quirks.ts). */
  readonly quirks: readonly string[];
  readonly pairing: Pairing;
  /** Public sources of the facts in this file (capture, field report, vendor manual). */
  readonly sources: readonly string[];
  /** Advertisements this definition must match (the registry test also checks no other specific one does). */
  readonly examples: readonly Advertisement[];
}
