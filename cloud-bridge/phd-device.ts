/**
 * The PhdDevice of a feeding Bundle: its identifiers (the one the conditional create keys on) and the
 * Device resource. Contract: MES "API Mesures" 1.5.2 §2.2.2 and HL7 PHD IG 1.x `PhdDevice`.
 */
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

/** EUI-64 as the PHD IG writes it: eight upper-case hex pairs joined by dashes. */
function eui(hex: string, bytes: number): string | undefined {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  if (clean.length !== bytes * 2) return undefined;
  return clean.match(/../g)?.join('-');
}

/** The PhdDevice identifier used for conditional create (regex of MES API Mesures §2.2.2). */
export function deviceIdentifier(
  device: BridgeDevice,
  solutionOid: string,
): { system: string; value: string; sysid: boolean } {
  const sysid = device.identity?.systemId ? eui(device.identity.systemId, 8) : undefined;
  if (sysid) return { system: EUI64_SYSTEM, value: sysid, sysid: true };
  // No EUI-64 (most MQTT devices): the gateway's own device id under the solution OID.
  const value = `gw-${device.id.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'device'}`;
  return { system: `urn:oid:${solutionOid}.2`, value, sysid: false };
}

/** The PhdDevice resource with the given logical id. */
export function phdDevice(
  device: BridgeDevice,
  ident: { system: string; value: string; sysid: boolean },
  deviceUuid: string,
  obs: Observation,
): Record<string, FhirJson | undefined> {
  const identity = device.identity ?? {};
  const identifier: FhirJson[] = [
    ident.sysid
      ? {
          type: { coding: [{ system: PHD_DEVICE_IDENTIFIERS, code: 'SYSID' }] },
          system: ident.system,
          value: ident.value,
        }
      : { system: ident.system, value: ident.value },
  ];
  const mac = identity.address ? eui(identity.address, 6) : undefined;
  if (mac) {
    identifier.push({
      type: { coding: [{ system: PHD_DEVICE_IDENTIFIERS, code: 'BTMAC' }] },
      system: BTMAC_SYSTEM,
      value: mac.toLowerCase(),
    });
  }
  return {
    resourceType: 'Device',
    id: deviceUuid,
    meta: { profile: [PHD_DEVICE_PROFILE] },
    identifier,
    manufacturer: identity.manufacturer,
    serialNumber: identity.serial,
    modelNumber: identity.model,
    deviceName: identity.model ? [{ name: identity.model, type: 'model-name' }] : undefined,
    // MDC_MOC_VMS_MDS_SIMP: every PhdDevice is a simple medical device system.
    type: { coding: [{ system: MDC, code: '65573' }] },
    specialization: [{ systemType: { coding: [{ system: MDC, code: String(specializationFor(obs)) }] } }],
    // MDC_ID_PROD_SPEC_FW (531976).
    version: identity.firmware
      ? [{ type: { coding: [{ system: MDC, code: '531976' }] }, value: identity.firmware }]
      : undefined,
  };
}
