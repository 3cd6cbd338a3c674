import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  knownProfiles,
  snapshotOf,
  validateMeasurementBundle,
  valueSetIncludes,
} from './profile-validator.ts';

const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const PHD = 'http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice';

const heartRate = () => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:4b0e7d3c-8c1f-4d8e-9f0a-2b6a1c3d4e5f',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        meta: { profile: [`${ANS}mesures-fr-observation-heartrate`] },
        category: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
            ],
          },
        ],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { identifier: { system: 'urn:oid:2.25.1', value: 'PE-1' } },
        effectiveDateTime: '2026-11-20T08:15:00Z',
        valueQuantity: { value: 64, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'POST', url: 'Observation' },
    },
  ],
});

describe('profile validator', () => {
  it('builds a snapshot for every profile it holds, each starting at its type', () => {
    for (const url of [
      `${ANS}mesures-fr-observation-body-weight`,
      `${ANS}mesures-fr-observation-bp`,
      `${ANS}mesures-fr-observation-heartrate`,
      `${ANS}mesures-fr-observation-body-temperature`,
      `${ANS}mesures-fr-observation-oxygen-sat`,
      `${ANS}mesures-observation-glucose`,
      `${ANS}mesures-bundle-flux-alimentation`,
      PHD,
    ]) {
      expect(knownProfiles()).toContain(url);
      const sd = snapshotOf(url) as { type: string; snapshot: { element: { id: string }[] } };
      expect(sd.snapshot.element[0]?.id).toBe(sd.type);
    }
    expect(snapshotOf(`${ANS}mesures-fr-observation-bmi`)).toBeUndefined();
  });

  it('applies the differential: PhdDevice requires manufacturer and the temperature pattern is Cel', () => {
    const device = snapshotOf(PHD) as { snapshot: { element: { id: string; min: number }[] } };
    expect(device.snapshot.element.find((e) => e.id === 'Device.manufacturer')?.min).toBe(1);
    const temp = snapshotOf(`${ANS}mesures-fr-observation-body-temperature`) as {
      snapshot: { element: Record<string, unknown>[] };
    };
    expect(temp.snapshot.element.find((e) => e.id === 'Observation.value[x]:valueQuantity')).toMatchObject({
      patternQuantity: { system: 'http://unitsofmeasure.org', code: 'Cel' },
    });
  });

  it('J157 holds the TRE_A04-Loinc and TRE_R313-CISP2 codes, not their http://loinc.org forms', () => {
    const j157 = 'https://mos.esante.gouv.fr/NOS/JDV_J157-MomentGlucose-ENS/FHIR/JDV-J157-MomentGlucose-ENS';
    expect(
      valueSetIncludes(j157, 'https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc', 'LA46-8'),
    ).toBe(true);
    expect(
      valueSetIncludes(j157, 'https://mos.esante.gouv.fr/NOS/TRE_R313-CISP2/FHIR/TRE-R313-CISP2', 'A05'),
    ).toBe(true);
    expect(valueSetIncludes(j157, 'http://loinc.org', 'LA46-8')).toBe(false);
    expect(valueSetIncludes('https://example.org/ValueSet/unknown', 'x', 'y')).toBeUndefined();
  });

  it('passes a conforming Bundle and names the path of each failing element', () => {
    expect(validateMeasurementBundle(heartRate())).toEqual([]);
    const b = heartRate();
    const obs = b.entry[0]?.resource as Record<string, unknown>;
    obs.code = { coding: [{ system: 'http://loinc.org', code: '8310-5' }] };
    expect(validateMeasurementBundle(b)).toEqual([
      {
        path: 'Bundle.entry[0].resource.code.coding',
        message: 'missing: Observation.code.coding:HeartRateCode is 1..1 (slice) (MesFrObservationHeartrate)',
      },
    ]);
    expect(validateMeasurementBundle({ resourceType: 'Patient' })).toEqual([
      { path: 'Bundle', message: 'not a Bundle' },
    ]);
  });

  it('a required primitive present only by its data-absent-reason extension counts as present (PhdDevice manufacturer)', () => {
    const device = {
      resourceType: 'Device',
      id: 'd1',
      meta: { profile: [PHD] },
      identifier: [
        {
          type: {
            coding: [
              { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' },
            ],
          },
          system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680',
          value: '00-1B-DC-FF-FE-00-00-01',
        },
      ],
      _manufacturer: {
        extension: [
          { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' },
        ],
      },
      modelNumber: 'GM-1',
      type: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '65573' }] },
      specialization: [
        { systemType: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '528401' }] }, version: '1' },
      ],
    };
    const b = heartRate();
    (b.entry[0]?.resource as Record<string, unknown>).device = { reference: 'Device/d1' };
    const withDevice = {
      ...b,
      entry: [...b.entry, { resource: device, request: { method: 'POST', url: 'Device' } }],
    };
    expect(validateMeasurementBundle(withDevice)).toEqual([]);
    const { _manufacturer: _, ...noManufacturer } = device;
    const without = {
      ...b,
      entry: [...b.entry, { resource: noManufacturer, request: { method: 'POST', url: 'Device' } }],
    };
    expect(validateMeasurementBundle(without)).toEqual([
      {
        path: 'Bundle.entry[1].resource.manufacturer',
        message: 'missing: Device.manufacturer is 1..1 (PhdDevice)',
      },
    ]);
  });

  it('never throws on an arbitrary value put in place of an Observation field', () => {
    const fields = [
      'meta',
      'category',
      'code',
      'subject',
      'valueQuantity',
      'extension',
      'device',
      'component',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const b = heartRate();
        (b.entry[0]?.resource as Record<string, unknown>)[field] = value;
        expect(Array.isArray(validateMeasurementBundle(b))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
