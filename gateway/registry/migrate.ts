/**
 * One-time migration of stored device identities (run when the registry file is opened), so that a
 * device the national side already knows keeps one Device there (docs/clinical-mapping.md, Device
 * identity):
 *
 * - a System ID stored the old way (its 8 bytes as received, hex without separators) becomes the
 *   canonical EUI-64 (OUI first, drivers/codecs/system-id.ts), and the value sent until now (those
 *   bytes dashed) is kept as `knownAs`: the PhdDevice carries it and conditional create keys on it;
 * - a device without a usable system id was named `gw-…` under the solution OID `.2` (a lossy name:
 *   `scale.7` and `scale_7` were both `gw-scale-7`); that name is kept as `knownAs` by the first
 *   device (oldest `createdAt`) that had it. The others had been merged into that device's Device on
 *   the national side; from now on they get their own (injective name under `.3`) and are listed in
 *   the migration record, section `identity-migration`, for an operator to review.
 *
 * Reading ids do not move: they are made from the wire-order text (drivers/reading-id.ts). A device
 * added after the migration has no `knownAs`: the record marks the registry as migrated.
 */
import { legacyGatewayDeviceValue } from '../../cloud-bridge/phd-device.ts';
import { eui64FromWireHex } from '../../drivers/codecs/system-id.ts';
import type { DeviceIdentity } from '../../drivers/types.ts';
import type { DeviceRecord } from '../contracts.ts';
import type { RegistryData } from './records.ts';

/** The section that records the migration (and marks the registry as migrated). */
export const IDENTITY_MIGRATION = 'identity-migration';

export interface IdentityMigrationRecord {
  readonly version: 1;
  readonly at: number;
  /** Devices whose System ID was re-ordered to the canonical EUI-64. */
  readonly systemIds: readonly string[];
  /** Devices that keep their earlier `gw-…` name on the national side. */
  readonly keptNames: readonly string[];
  /** Devices whose earlier name another device already had: they get a Device of their own now. */
  readonly splitFromShared: readonly { readonly id: string; readonly sharedWith: string }[];
}

/** A copy of a record map that keeps its prototype (the registry uses prototype-free maps). */
function copyMap<T extends object>(map: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(map)), map) as T;
}

const dashed = (hex: string): string => (hex.toUpperCase().match(/../g) ?? []).join('-');

/**
 * The registry data with identities migrated and the migration recorded; `changed` says whether a
 * stored device changed (then the file is to be written before use). Already migrated: returned as is.
 */
export function migrateIdentities(data: RegistryData, now: number): { data: RegistryData; changed: boolean } {
  if (Object.hasOwn(data.sections, IDENTITY_MIGRATION)) return { data, changed: false };
  const devices = copyMap(data.devices);
  const sections = copyMap(data.sections);
  const systemIds: string[] = [];
  const keptNames: string[] = [];
  const splitFromShared: { id: string; sharedWith: string }[] = [];
  const nameHolder = new Map<string, string>();
  const ordered = Object.values(data.devices).sort(
    (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  for (const device of ordered) {
    const identity: DeviceIdentity = device.identity ?? {};
    if (identity.knownAs) continue;
    const stored = identity.systemId;
    const hex = stored?.replace(/[^0-9a-fA-F]/g, '') ?? '';
    let next: DeviceIdentity | undefined;
    if (stored !== undefined && /^[0-9a-fA-F]{16}$/.test(stored)) {
      // Written by the BLE session before the System ID was decoded: wire order.
      const eui64 = eui64FromWireHex(stored);
      // An all-zero or all-one id is no identity: left as it is (the PhdDevice names such a device by its
      // gateway id; its reading ids still use the stored text).
      if (eui64) {
        next = { ...identity, systemId: eui64, knownAs: { system: 'eui-64', value: dashed(stored) } };
        systemIds.push(device.id);
      }
    } else if (hex.length !== 16) {
      // No usable system id: until now the device was named by its lossy gateway name.
      const name = legacyGatewayDeviceValue(device.id);
      const holder = nameHolder.get(name);
      if (holder === undefined) {
        nameHolder.set(name, device.id);
        next = { ...identity, knownAs: { system: 'gateway', value: name } };
        keptNames.push(device.id);
      } else {
        splitFromShared.push({ id: device.id, sharedWith: holder });
      }
    }
    if (next) devices[device.id] = { ...device, identity: next } satisfies DeviceRecord;
  }
  const record: IdentityMigrationRecord = { version: 1, at: now, systemIds, keptNames, splitFromShared };
  sections[IDENTITY_MIGRATION] = record;
  const changed = systemIds.length + keptNames.length + splitFromShared.length > 0;
  return { data: { ...data, devices, sections }, changed };
}
