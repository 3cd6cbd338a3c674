/**
 * A device profile says, for one GATT service, what a collector does on every connection: which
 * characteristics to subscribe to (notifications, CCCD 0x0001) or to indicate (CCCD 0x0002 — writing
 * 0x0001 where indications are required subscribes "successfully" and delivers nothing), which to read
 * once, and how stored records reach the gateway.
 */

/** How stored records reach the gateway. */
export type CollectMethod =
  /** The gateway pulls them through the Record Access Control Point (GLS, PLX spot-check). */
  | 'racp'
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
  /** What the collector does, in order, for people and for the BLE central. */
  readonly steps: readonly string[];
}

export const ch = (uuid: string, name: string, required = true): ProfileCharacteristic => ({
  uuid,
  name,
  required,
});
