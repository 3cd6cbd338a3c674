/**
 * The narrow view of a live BLE link that definition hooks and driver procedures receive. The gateway
 * passes an implementation in (gateway/ble/link.ts); drivers/ never opens a link, waits on a clock or
 * logs: a hook only asks the link, which applies the timeouts, the GATT spacing and link-loss detection.
 * Services and characteristics are 16-bit upper-case hex (`1810`, `2A35`).
 */
import type { DeviceDateTime } from '../types.ts';

export interface DeviceLink {
  /** The registry id of the device (its address). */
  readonly deviceId: string;
  /** Whether service discovery found this characteristic. */
  has(service: string, characteristic: string): boolean;
  /** Whether the characteristic allows this operation (`read`, `write`, `notify`, `indicate`…). */
  allows(service: string, characteristic: string, property: string): boolean;
  /** Reads a value; undefined when the characteristic is absent or not readable. */
  read(service: string, characteristic: string): Promise<Uint8Array | undefined>;
  /** Writes a value (with response unless `withoutResponse`). */
  write(
    service: string,
    characteristic: string,
    value: Uint8Array,
    options?: { readonly withoutResponse?: boolean },
  ): Promise<void>;
  /**
   * Writes a control point (subscribed for indications) and resolves with its next indication: the
   * answer (RACP, User Control Point, CGM Specific Ops Control Point).
   */
  request(service: string, characteristic: string, value: Uint8Array, what: string): Promise<Uint8Array>;
  /** Waits until the device has been silent for the session's quiet period and what it sent is committed. */
  quiet(): Promise<void>;
  /** The gateway's clock now, as the civil time a device clock should show (config `timezone`). */
  localTime(): DeviceDateTime;
  /**
   * A hook set the device clock to `device` (a vendor clock characteristic): readings taken from now on
   * carry that clock (`synced`), as after a Current Time write.
   */
  clockSet(device: DeviceDateTime): void;
  /**
   * A hook read the device clock (a vendor clock command): `device` is the device's time now, the
   * coincident timestamp that corrects the readings taken with that clock (`corrected`), as a Current
   * Time read does.
   */
  clockRead(device: DeviceDateTime): void;
}
