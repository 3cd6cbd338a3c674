/**
 * The PhdDevice the bridge sends (cloud-bridge/phd-device.ts) against HL7 PHD IG 1.0.0 PhdDevice, checked
 * by the sandbox's profile validator, and the device identifiers: canonical EUI-64, upper-case BT MAC,
 * the IG placeholder for a missing system id, and an injective name for devices without one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BridgeReading, buildBundle } from '../../cloud-bridge/bundle.ts';
import { toFhirJson } from '../../cloud-bridge/fhir-json.ts';
import {
  deviceIdentifier,
  gatewayDeviceValue,
  legacyGatewayDeviceValue,
} from '../../cloud-bridge/phd-device.ts';
import { checkId } from '../../gateway/registry/registry.ts';
import { validateMeasurementBundle } from '../../simulators/sandbox/profile-validator.ts';

const SOLUTION = '2.25.71922510045900526679301521263764504793';
const time = { utc: '2026-11-22T07:15:00Z', quality: 'synced' as const };
const weight = {
  kind: 'body-weight',
  loinc: '29463-7',
  mdc: '188736',
  value: 80.2,
  decimals: 1,
  unit: 'kg',
  time,
} as const;
type Json = Record<string, unknown>;

function bundle(device: BridgeReading['device']): { json: Json; device: Json; request: Json } {
  const b = buildBundle(
    { id: 'r-1', observation: weight, device, patient: { idPe: 'PE-1', oid: '1.2.250.1.213.1.4.10' } },
    { solutionOid: SOLUTION },
  );
  const json = JSON.parse(toFhirJson(b)) as Json;
  const entry = (json.entry as Json[])[1] as Json;
  return { json, device: entry.resource as Json, request: entry.request as Json };
}

// MES API Mesures 1.5.2 §2.2.2 ifNoneExist regex, read as its authors mean it (groups of letters and
// digits joined by single dashes), stricter than the Java class-union reading the sandbox applies.
const MES_STRICT = /^identifier=urn:oid:[0-9]+(\.[0-9]+)+\|[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$/;

describe('PhdDevice (HL7 PHD IG 1.0.0)', () => {
  it('a Bluetooth device with every DIS value: EUI-64 SYSID, upper-case BTMAC, versions, UDI; the profile passes', () => {
    const { json, device, request } = bundle({
      id: 'C0:26:DA:00:0E:01',
      identity: {
        systemId: 'C0-26-DA-FF-FE-00-0E-01',
        address: 'c0:26:da:00:0e:01',
        manufacturer: 'Roche',
        model: 'Guide',
        serial: '92301234',
        firmware: '02.01',
        hardware: 'HW-3',
        software: 'SW-4.1',
        udi: { label: '(01)10884521062856(21)1234', deviceIdentifier: '10884521062856', issuer: '2.51.1.1' },
      },
    });
    expect(validateMeasurementBundle(json)).toEqual([]);
    expect(device.identifier).toEqual([
      {
        type: {
          coding: [
            { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' },
          ],
        },
        system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680',
        value: 'C0-26-DA-FF-FE-00-0E-01',
      },
      {
        type: {
          coding: [
            { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'BTMAC' },
          ],
        },
        system: 'http://hl7.org/fhir/sid/eui-48/bluetooth',
        value: 'C0-26-DA-00-0E-01',
      },
    ]);
    expect(request.ifNoneExist).toBe(
      'identifier=urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|C0-26-DA-FF-FE-00-0E-01',
    );
    expect(device).toMatchObject({ manufacturer: 'Roche', modelNumber: 'Guide', serialNumber: '92301234' });
    expect(device.specialization).toEqual([
      { systemType: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '528399' }] }, version: '1' },
    ]);
    const versions = (device.version as Json[]).map((v) => [
      ((v.type as Json).coding as Json[])[0]?.code,
      v.value,
    ]);
    expect(versions).toEqual([
      ['531974', 'HW-3'],
      ['531975', 'SW-4.1'],
      ['531976', '02.01'],
    ]);
    expect(device.udiCarrier).toEqual([
      {
        deviceIdentifier: '10884521062856',
        issuer: 'urn:oid:2.51.1.1',
        carrierHRF: '(01)10884521062856(21)1234',
      },
    ]);
  });

  it('a device that gives nothing: the IG placeholder system id, unknown manufacturer and model; the profile passes', () => {
    const { json, device, request } = bundle({ id: 'scale.7' });
    expect(validateMeasurementBundle(json)).toEqual([]);
    const ids = device.identifier as Json[];
    expect(ids[0]).toMatchObject({
      system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680',
      value: '00-00-00-00-00-00-00-00',
    });
    // The placeholder is shared by every such device: never the conditional-create key.
    expect(request.ifNoneExist).toBe(`identifier=urn:oid:${SOLUTION}.3|gwscale-2e7`);
    expect(ids).toContainEqual({ system: `urn:oid:${SOLUTION}.3`, value: 'gwscale-2e7' });
    const unknown = {
      extension: [
        { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' },
      ],
    };
    expect(device._manufacturer).toEqual(unknown);
    expect(device._modelNumber).toEqual(unknown);
    expect(device.manufacturer).toBeUndefined();
    // Without them the profile fails: the placeholders are what satisfy manufacturer 1.. and modelNumber 1..
    const bare = structuredClone(json);
    const d = ((bare.entry as Json[])[1] as Json).resource as Json;
    delete d._manufacturer;
    delete d._modelNumber;
    expect(
      validateMeasurementBundle(bare)
        .map((i) => i.path)
        .join(' '),
    ).toMatch(/manufacturer/);
  });

  it('an all-zero system id is the placeholder, not an identity', () => {
    const { request } = bundle({ id: 'b1', identity: { systemId: '00-00-00-00-00-00-00-00' } });
    expect(request.ifNoneExist).toBe(`identifier=urn:oid:${SOLUTION}.3|gwb1`);
  });
});

describe('MQTT device ids: distinct ids never become the same Device identifier', () => {
  it('scale.7, scale_7, scale:7, scale-7 and Scale-7 get five identifiers (all one before)', () => {
    const ids = ['scale.7', 'scale_7', 'scale:7', 'scale-7', 'Scale-7'];
    const values = ids.map((id) => deviceIdentifier({ id }, SOLUTION).value);
    expect(values).toEqual(['gwscale-2e7', 'gwscale-5f7', 'gwscale-3a7', 'gwscale-2d7', 'gw-53cale-2d7']);
    expect(new Set(values).size).toBe(ids.length);
    // The earlier names collided: the reason for the new encoding.
    expect(new Set(ids.slice(0, 4).map(legacyGatewayDeviceValue))).toEqual(new Set(['gw-scale-7']));
    for (const id of ids) {
      const { request } = bundle({ id });
      expect(request.ifNoneExist).toMatch(MES_STRICT);
    }
  });

  it('property: two different registry ids never share a value, even compared without case; every value fits MES', () => {
    const idChar = fc.constantFrom(...'abcXYZ0129._:-'.split(''));
    const registryId = fc.array(idChar, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(registryId, registryId, (a, b) => {
        checkId('device id', a);
        checkId('device id', b);
        const va = gatewayDeviceValue(a);
        const vb = gatewayDeviceValue(b);
        expect(`identifier=urn:oid:${SOLUTION}.3|${va}`).toMatch(MES_STRICT);
        if (a !== b) expect(va.toLowerCase()).not.toBe(vb.toLowerCase());
      }),
      { numRuns: 5000 },
    );
  });
});
