/**
 * A driver definition: one file per device model or family, built from reusable blocks.
 * `{ id, vendor, model, match: { ble: { services, localName?, manufacturerId? } }, profiles, steps,
 * quirks, link?, hooks? }`: the matcher, the profile blocks (what to subscribe, read, collect), the
 * connection procedure as step blocks (drivers/definitions/steps.ts), codec and measurement quirks, and
 * optional hooks that run with a narrow view of the link (drivers/definitions/link.ts). Pure data and
 * functions: no I/O, no clock.
 */
import type { DeviceProfile, RecordFilter } from '../profiles/types.ts';
import type { DeviceLink } from './link.ts';
import type { Step } from './steps.ts';

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

/**
 * How the device bonds: `just-works`, `passkey` (the person types the code the device shows),
 * `legacy` (LE legacy pairing only, no LE Secure Connections: the adapter must allow it), `none`.
 */
export type Pairing = 'just-works' | 'passkey' | 'legacy' | 'none';

/** How the link must be driven for this model. */
export interface LinkOptions {
  /** Minimum time between two GATT operations, ms (devices that drop requests sent back to back). */
  readonly gattSpacingMs?: number;
}

/** Executable hooks of a model; each receives the link view the gateway passes in. */
export interface DefinitionHooks {
  /** Right after the connection, before bonding and discovery. */
  readonly afterConnect?: (link: DeviceLink) => Promise<void>;
  /** After subscriptions, before the first collection step. */
  readonly beforeCollect?: (link: DeviceLink) => Promise<void>;
  /** A rule on each final record, after the profiles' own filters: undefined keeps it. */
  readonly filterRecord?: RecordFilter;
}

export interface DriverDefinition {
  /** Kebab-case id, unique: `beurer-bm85`, `generic-glucose`. */
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  /** True for the generic profile drivers: they work for any standards-conforming device of the service. */
  readonly generic: boolean;
  readonly description: string;
  /**
   * What the person presses on the device and what they will see, in French and English: shown beside
   * a device waiting to be paired (devices page) and when `medgw pair` starts (English).
   */
  readonly pairingHelp?: { readonly fr: string; readonly en: string };
  readonly match: { readonly ble: BleMatch };
  /** Profile blocks the BLE central runs, the measurement profile first. */
  readonly profiles: readonly DeviceProfile[];
  /** The connection procedure, in order (`standardSteps(profiles)` for a standard device). */
  readonly steps: readonly Step[];
  /** How to drive the link (GATT spacing). */
  readonly link?: LinkOptions;
  readonly hooks?: DefinitionHooks;
  /** Quirk names: codec quirks (CharacteristicCodec.quirks) or measurement quirks (quirks.ts). */
  readonly quirks: readonly string[];
  readonly pairing: Pairing;
  /** Public sources of the facts in this file (capture, field report, vendor manual). */
  readonly sources: readonly string[];
  /** Advertisements this definition must match (the registry test also checks no other specific one does). */
  readonly examples: readonly Advertisement[];
}
