/**
 * The PhdDevice of a feeding Bundle: its identifiers (the one the conditional create keys on) and the
 * Device resource. Contract: MES "API Mesures" 1.5.2 §2.2.2 (conditional create, identifier regex) and
 * HL7 PHD IG 1.0.0 (STU1) `PhdDevice` (http://hl7.org/fhir/uv/phd/STU1/StructureDefinition-PhdDevice.html),
 * the version ans.fhir.fr.mesures 3.x depends on. Decisions: docs/clinical-mapping.md, Device identity.
 */
import { isEui64Text, NO_SYSTEM_ID } from '../drivers/codecs/system-id.ts';
import type { DeviceIdentity, Observation } from '../drivers/types.ts';
import type { FhirJson } from './fhir-json.ts';
import {
  BTMAC_SYSTEM,
  EUI64_SYSTEM,
  MDC,
  PHD_DEVICE_IDENTIFIERS,
  PHD_DEVICE_PROFILE,
  specializationFor,
} from './profiles.ts';

/** The device a reading came from, as the bridge receives it. */
export interface BridgeDevice {
  readonly id: string;
  readonly identity?: DeviceIdentity;
}

/** One Device.identifier. */
interface Ident {
  readonly system: string;
  readonly value: string;
  readonly type?: 'SYSID' | 'BTMAC';
}

/** The identifier the conditional create keys on, and every identifier the PhdDevice carries. */
export interface DeviceKey {
  readonly system: string;
  readonly value: string;
  /** The key is the device's own EUI-64 system id. */
  readonly sysid: boolean;
  readonly identifiers: readonly Ident[];
}

/**
 * Sub-arcs of the solution OID naming devices that have no system id:
 * - `.3`: the gateway device id in the injective encoding below (every device since it was introduced);
 * - `.2`: the earlier, lossy names (`gw-` and runs of other characters folded to one dash), kept only as
 *   the `knownAs` of devices the registry migration found already named that way.
 */
const GATEWAY_ARC = '3';
const LEGACY_GATEWAY_ARC = '2';

/**
 * The device id as a Device.identifier value, injective and within the MES pattern
 * (`[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*` as the §2.2.2 regex means it): `gw`, then each byte of the id's UTF-8
 * text: a lower-case letter or a digit as itself, any other byte as `-` and two lower-case hex digits
 * (so `-` itself is `-2d`). Decoding is unambiguous, also for a server that compares values without
 * regard to case (escapes are the only dashes; only lower-case letters pass through).
 * `scale.7` → `gwscale-2e7`, `scale_7` → `gwscale-5f7`, `scale:7` → `gwscale-3a7`, `scale-7` → `gwscale-2d7`.
 */
export function gatewayDeviceValue(deviceId: string): string {
  let out = 'gw';
  for (const b of new TextEncoder().encode(deviceId)) {
    const lowerOrDigit = (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39);
    out += lowerOrDigit ? String.fromCharCode(b) : `-${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The name a device without system id had before the injective encoding (collisions and all). */
export function legacyGatewayDeviceValue(deviceId: string): string {
  return `gw-${deviceId.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'device'}`;
}

/** `XX-XX-…` upper case from hex in any separator style, when it has exactly `bytes` bytes. */
function dashed(hex: string, bytes: number): string | undefined {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  if (clean.length !== bytes * 2) return undefined;
  return clean.match(/../g)?.join('-');
}

/**
 * The PhdDevice identifiers and the one conditional create keys on (MES API Mesures §2.2.2):
 * - the system-id identifier (PhdDevice slice systemIdIdentifier, 1..1): the EUI-64, or the IG's
 *   placeholder 00-00-00-00-00-00-00-00 for a device without one (PhdDevice systemIdIdentifier.value
 *   comment) — the placeholder is never a key, it would make every such device one;
 * - the Bluetooth address (btmacAddressIdentifier) when the device has one, upper case;
 * - for a device without system id, its gateway id under the solution OID (`.3`);
 * - `knownAs`, the identifier the national side already holds from an earlier version: carried, and the
 *   key, so conditional create finds the Device it created then instead of making a second one.
 */
export function deviceIdentifier(device: BridgeDevice, solutionOid: string): DeviceKey {
  const identity = device.identity ?? {};
  const eui64 = identity.systemId !== undefined ? dashed(identity.systemId, 8) : undefined;
  const sysid = eui64 !== undefined && eui64 !== NO_SYSTEM_ID && isEui64Text(eui64) ? eui64 : undefined;
  const identifiers: Ident[] = [{ system: EUI64_SYSTEM, value: sysid ?? NO_SYSTEM_ID, type: 'SYSID' }];
  const mac = identity.address !== undefined ? dashed(identity.address, 6) : undefined;
  if (mac) identifiers.push({ system: BTMAC_SYSTEM, value: mac, type: 'BTMAC' });
  let key: Ident = identifiers[0] as Ident;
  if (!sysid) {
    key = { system: `urn:oid:${solutionOid}.${GATEWAY_ARC}`, value: gatewayDeviceValue(device.id) };
    identifiers.push(key);
  }
  const known = identity.knownAs;
  if (known) {
    const system = known.system === 'eui-64' ? EUI64_SYSTEM : `urn:oid:${solutionOid}.${LEGACY_GATEWAY_ARC}`;
    const already = identifiers.find((i) => i.system === system && i.value === known.value);
    key = already ?? { system, value: known.value };
    if (!already) identifiers.push(key);
  }
  return { system: key.system, value: key.value, sysid: key.type === 'SYSID', identifiers };
}

const mdc = (code: string, text: string): FhirJson => ({ coding: [{ system: MDC, code }], text });

/** Device.udiCarrier.issuer / jurisdiction are uris: a DIS UDI Issuer / Authority that is an OID becomes `urn:oid:…`, any other text is left out (the label keeps the whole UDI). */
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const oidUri = (v: string | undefined): string | undefined =>
  v !== undefined && OID.test(v) ? `urn:oid:${v}` : undefined;

/**
 * The PhdDevice resource with the given logical id. PHD IG 1.0.0 requires manufacturer, modelNumber,
 * type, specialization (with version) and the system-id identifier; where the device gives no value,
 * the element carries the FHIR data-absent-reason `unknown` instead (the IG defines a placeholder only
 * for the system id, used above).
 */
export function phdDevice(
  device: BridgeDevice,
  key: DeviceKey,
  deviceUuid: string,
  obs: Observation,
): Record<string, FhirJson | undefined> {
  const identity = device.identity ?? {};
  const identifier: FhirJson[] = key.identifiers.map((i) =>
    i.type
      ? {
          type: { coding: [{ system: PHD_DEVICE_IDENTIFIERS, code: i.type }] },
          system: i.system,
          value: i.value,
        }
      : { system: i.system, value: i.value },
  );
  // PhdDevice version.type codes (PHD IG PhdDevice version comment; MDC_ID_PROD_SPEC_*).
  const versions: FhirJson[] = [];
  if (identity.hardware)
    versions.push({ type: mdc('531974', 'MDC_ID_PROD_SPEC_HW'), value: identity.hardware });
  if (identity.software)
    versions.push({ type: mdc('531975', 'MDC_ID_PROD_SPEC_SW'), value: identity.software });
  if (identity.firmware)
    versions.push({ type: mdc('531976', 'MDC_ID_PROD_SPEC_FW'), value: identity.firmware });
  const udi = identity.udi;
  const issuer = oidUri(udi?.issuer);
  const jurisdiction = oidUri(udi?.authority);
  const udiCarrier =
    udi && (udi.deviceIdentifier || udi.label)
      ? [
          {
            ...(udi.deviceIdentifier ? { deviceIdentifier: udi.deviceIdentifier } : {}),
            ...(issuer ? { issuer } : {}),
            ...(jurisdiction ? { jurisdiction } : {}),
            ...(udi.label ? { carrierHRF: udi.label } : {}),
          },
        ]
      : undefined;
  return {
    resourceType: 'Device',
    id: deviceUuid,
    meta: { profile: [PHD_DEVICE_PROFILE] },
    identifier,
    udiCarrier,
    manufacturer: identity.manufacturer,
    _manufacturer: identity.manufacturer ? undefined : UNKNOWN,
    serialNumber: identity.serial,
    modelNumber: identity.model,
    _modelNumber: identity.model ? undefined : UNKNOWN,
    deviceName: identity.model ? [{ name: identity.model, type: 'model-name' }] : undefined,
    // MDC_MOC_VMS_MDS_SIMP: every PhdDevice is a simple medical device system.
    type: { coding: [{ system: MDC, code: '65573' }], text: 'MDC_MOC_VMS_MDS_SIMP' },
    // A Bluetooth SIG profile device reports no System-Type-Spec-List version; version "1" is what the
    // IG's Bluetooth LE examples carry (HL7/phd input/examples/phd-711000FEFF5F49B0.B0495F001071.json).
    specialization: [
      { systemType: { coding: [{ system: MDC, code: String(specializationFor(obs)) }] }, version: '1' },
    ],
    version: versions.length > 0 ? versions : undefined,
  };
}

/** FHIR R4 data-absent-reason on a primitive that has no value (http://hl7.org/fhir/extensions). */
const UNKNOWN: FhirJson = {
  extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }],
};
