/**
 * A device profile says, for one GATT service, what a collector does on every connection: which
 * characteristics to subscribe to (notifications, CCCD 0x0001) or to indicate (CCCD 0x0002 — writing
 * 0x0001 where indications are required subscribes "successfully" and delivers nothing), which to read
 * once, and how stored records reach the gateway. It also carries the device knowledge the collector
 * needs about the records themselves, as executable blocks: a filter (records the service marks as not
 * a reading) and an assembler (records split over several characteristics). Pure: no I/O, no clock.
 */

import type { ErrorCode, MedgwError } from '../../kernel/errors.ts';
import type { DeviceLink } from '../definitions/link.ts';
import type { Measurement } from '../types.ts';

/** How stored records reach the gateway. */
export type CollectMethod =
  /** The gateway pulls them through the Record Access Control Point (GLS, PLX spot-check). */
  | 'racp'
  /** The gateway reads records one by one by index through a vendor command protocol (LifeScan OneTouch). */
  | 'counter'
  /** The device pushes queued indications after the connection (BLS, WSS, HTS). */
  | 'push'
  /** Live values only, nothing stored (PLX continuous). */
  | 'live'
  /** Not a measurement service: a companion the gateway uses (UDS consent, CTS time setting, DIS identity). */
  | 'companion';

export interface ProfileCharacteristic {
  /** 16-bit UUID, upper-case hex. */
  readonly uuid: string;
  readonly name: string;
  /** M (mandatory) or O (optional) in the service specification. */
  readonly required: boolean;
}

export interface DeviceProfile {
  /** Kebab-case id: `glucose`, `weight-scale`… */
  readonly id: string;
  readonly name: string;
  /** 16-bit service UUID, upper-case hex. */
  readonly service: string;
  /** The specification the profile follows (cited, one line). */
  readonly spec: string;
  /** Characteristics whose notifications the gateway enables (CCCD 0x0001). */
  readonly notify: readonly ProfileCharacteristic[];
  /** Characteristics whose indications the gateway enables (CCCD 0x0002). */
  readonly indicate: readonly ProfileCharacteristic[];
  /** Characteristics read once per connection (features, identity, current time). */
  readonly readOnce: readonly ProfileCharacteristic[];
  /** Control points the gateway writes (RACP, User Control Point, Current Time). */
  readonly write: readonly ProfileCharacteristic[];
  readonly collect: CollectMethod;
  /** What the collector does, in order, for people (docs/supported-devices.md). */
  readonly steps: readonly string[];
  /** Records the service marks as "no reading" (WSS weight 0xFFFF): dropped with a code, never forwarded. */
  readonly filterRecord?: RecordFilter;
  /** A new assembler per connection when a record spans several characteristics (GLS context 0x2A34). */
  readonly assembler?: () => RecordAssembler;
  /**
   * Runs before the first collection step, after the subscriptions (a measurement profile's own set-up:
   * the CGM reads its feature and session start, asks its Specific Ops Control Point): what it returns
   * decodes this connection's records.
   */
  readonly beforeCollect?: (link: DeviceLink) => Promise<ProfileSession | undefined>;
}

/** What a profile learned at the start of a collection, for the records of this connection. */
export interface ProfileSession {
  /** Decodes a frame of a measurement characteristic (instead of the codec alone). */
  readonly decode?: (uuid: string, bytes: Uint8Array, quirks: ReadonlySet<string>) => Measurement[];
  /** The RACP cursor value a record carries (default: its sequence number). */
  readonly cursorOf?: (m: Measurement) => number | undefined;
  /**
   * The highest cursor value the device can hold now: a stored cursor above it means the device restarted
   * its numbering (a new CGM session restarts Time Offsets at 0), so every record is fetched again.
   */
  readonly cursorLimit?: number;
  /** Facts for the operators (CGM communication interval…), logged once. */
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
}

/** Why a final record is left out: counted, logged with its code (never its value), never forwarded. */
export interface RecordDrop {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A rule on one decoded final record: undefined keeps it. */
export type RecordFilter = (m: Measurement) => RecordDrop | undefined;

/**
 * Completes records that arrive in several frames. Fed in arrival order; returns the records complete
 * so far. One instance per connection (it holds the record waiting for its companion).
 */
export interface RecordAssembler {
  /** Characteristics whose frames complete a record (not records themselves), 16-bit upper-case hex. */
  readonly companions: readonly string[];
  /** A decoded final record of the measurement characteristic `source`. */
  record(m: Measurement): Measurement[];
  /** A companion frame; `refused` when it belongs to no waiting record (the frame is rejected with its code). */
  companion(
    uuid: string,
    bytes: Uint8Array,
    quirks: ReadonlySet<string>,
  ): { readonly ready: Measurement[]; readonly refused?: MedgwError };
  /** The transfer ended (RACP response): a record still waiting stands on its own. */
  end(): Measurement[];
  /** The link was lost: a record still waiting is incomplete, dropped, fetched again next time. */
  abandon(): void;
}

export const ch = (uuid: string, name: string, required = true): ProfileCharacteristic => ({
  uuid,
  name,
  required,
});
