import { describe, expect, it } from 'vitest';
import type { Observation } from '../drivers/types.ts';
import { type BridgeReading, buildBundle, stableUuid } from './bundle.ts';
import { toFhirJson } from './fhir-json.ts';
import { deviceIdentifier } from './phd-device.ts';

const SOLUTION = '2.25.71922510045900526679301521263764504793';
const PAIRING = '2.25.223577281493925814735310533247560057336';
const time = { utc: '2026-11-22T07:15:00Z', quality: 'synced' as const };

function reading(
  observation: Observation,
  device: BridgeReading['device'] = { id: 'mqtt-scale-7' },
): BridgeReading {
  return { id: 'r1-0123', observation, device, patient: { idPe: 'PE-1', oid: PAIRING } };
}

type Json = Record<string, unknown>;
function parsed(r: BridgeReading): { bundle: Json; obs: Json; device: Json; deviceRequest: Json } {
  const bundle = JSON.parse(toFhirJson(buildBundle(r, { solutionOid: SOLUTION }))) as Json;
  const entry = bundle.entry as { resource: Json; request: Json }[];
  return {
    bundle,
    obs: entry[0]?.resource as Json,
    device: entry[1]?.resource as Json,
    deviceRequest: entry[1]?.request as Json,
  };
}

describe('MES feeding Bundle', () => {
  it('glucose: ANS glucose profile, national code 2345-7, meal moment, subject by idPe, meta.source', () => {
    const { bundle, obs } = parsed(
      reading({
        kind: 'glucose',
        loinc: '2345-7',
        mdc: '160184',
        value: 98,
        decimals: 0,
        unit: 'mg/dL',
        time,
        context: { meal: 'postprandial' },
      }),
    );
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    expect(obs.meta).toEqual({
      profile: [
        'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-observation-glucose',
      ],
      source: `urn:oid:${SOLUTION}`,
    });
    expect(obs.extension).toEqual([
      {
        url: 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-moment-of-measurement',
        valueCodeableConcept: {
          coding: [
            {
              system: 'https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc',
              code: '16915-1',
              display: 'Glucose post prandial',
            },
          ],
        },
      },
    ]);
    expect((obs.code as { coding: { code: string }[] }).coding[0]?.code).toBe('2345-7');
    expect(obs.subject).toEqual({ identifier: { system: `urn:oid:${PAIRING}`, value: 'PE-1' } });
    expect(obs.identifier).toEqual([{ system: `urn:oid:${SOLUTION}`, value: 'r1-0123' }]);
    expect(obs.effectiveDateTime).toBe('2026-11-22T07:15:00Z');
  });

  it('casual and bedtime are "Autre" (LA46-8); no meal context is never coded: the reading is not sendable', () => {
    const glucose = (context?: Observation['context']): Observation => ({
      kind: 'glucose',
      loinc: '2345-7',
      mdc: '160184',
      value: 98,
      decimals: 0,
      unit: 'mg/dL',
      time,
      ...(context ? { context } : {}),
    });
    for (const meal of ['casual', 'bedtime']) {
      expect(JSON.stringify(parsed(reading(glucose({ meal }))).obs.extension)).toContain('"code":"LA46-8"');
    }
    for (const context of [undefined, { meal: 'sometime' }, { meal: '__proto__' }]) {
      expect(() => buildBundle(reading(glucose(context)), { solutionOid: SOLUTION })).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' }),
      );
    }
  });

  it('a glucose converted from mmol/L carries MesOriginalData: converted, the molar LOINC and the value as measured', () => {
    const { obs } = parsed(
      reading({
        kind: 'glucose',
        loinc: '2345-7',
        mdc: '160184',
        value: 99,
        decimals: 0,
        unit: 'mg/dL',
        original: { value: 5.5, unit: 'mmol/L', decimals: 1 },
        time,
        context: { meal: 'fasting' },
      }),
    );
    expect((obs.extension as Json[])[1]).toEqual({
      url: 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-original-data',
      extension: [
        { url: 'has-been-converted', valueBoolean: true },
        {
          url: 'original-code',
          valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '14749-6' }] },
        },
        {
          url: 'original-value',
          valueQuantity: { value: 5.5, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        },
      ],
    });
  });

  it('a weight converted from pounds keeps its original with its precision (157.00 lb)', () => {
    const b = toFhirJson(
      buildBundle(
        reading({
          kind: 'body-weight',
          loinc: '29463-7',
          mdc: '188736',
          value: 71.21,
          decimals: 2,
          unit: 'kg',
          original: { value: 157, unit: '[lb_av]', decimals: 2 },
          time,
        }),
        { solutionOid: SOLUTION },
      ),
    );
    expect(b).toContain('"original-value","valueQuantity":{"value":157.00,"unit":"[lb_av]"');
    expect(b).toContain(
      '"original-code","valueCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]}',
    );
  });

  it('HI / LO: the limit with its comparator, and the sensor-status bit as an ASN1ToHL7 interpretation', () => {
    const { obs } = parsed(
      reading({
        kind: 'glucose',
        loinc: '2345-7',
        mdc: '160184',
        value: 600,
        decimals: 0,
        unit: 'mg/dL',
        comparator: '>',
        deviceStatus: [
          {
            system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ASN1ToHL7',
            code: '8417752.5',
            display: 'sensor-result-too-high',
          },
        ],
        time,
        context: { meal: 'fasting' },
      }),
    );
    expect(obs.valueQuantity).toEqual({
      value: 600,
      comparator: '>',
      unit: 'mg/dL',
      system: 'http://unitsofmeasure.org',
      code: 'mg/dL',
    });
    expect(obs.interpretation).toEqual([
      {
        coding: [
          {
            system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ASN1ToHL7',
            code: '8417752.5',
            display: 'sensor-result-too-high',
          },
        ],
      },
    ]);
    expect(obs).not.toHaveProperty('component');
  });

  it('a measurement-status condition is an interpretation; a bit with no PHD code travels as text', () => {
    const { obs } = parsed(
      reading({
        kind: 'spo2',
        loinc: '59408-5',
        mdc: '150456',
        value: 97,
        decimals: 0,
        unit: '%',
        deviceStatus: [
          {
            system: 'http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status',
            code: 'questionable',
            display: 'Questionable',
          },
          { display: 'Fully qualified data (PLX measurement status)' },
        ],
        time,
      }),
    );
    expect(obs.interpretation).toEqual([
      {
        coding: [
          {
            system: 'http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status',
            code: 'questionable',
            display: 'Questionable',
          },
        ],
      },
      { text: 'Fully qualified data (PLX measurement status)' },
    ]);
    expect(obs).not.toHaveProperty('component');
  });

  it('a blood-pressure panel keeps its two components; a status bit goes to interpretation', () => {
    const part = (
      kind: 'systolic' | 'diastolic',
      loinc: string,
      mdc: string,
      value: number,
    ): Observation => ({
      kind,
      loinc,
      mdc,
      value,
      decimals: 0,
      unit: 'mm[Hg]',
      time,
    });
    const { obs } = parsed(
      reading({
        kind: 'blood-pressure',
        loinc: '85354-9',
        mdc: '150020',
        components: [part('systolic', '8480-6', '150021', 128), part('diastolic', '8462-4', '150022', 82)],
        deviceStatus: [
          {
            system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ASN1ToHL7',
            code: '8410608.2',
            display: 'irregular-pulse',
          },
        ],
        time,
      }),
    );
    const codes = (obs.component as { code: { coding: { code: string }[] } }[]).map(
      (c) => c.code.coding[0]?.code,
    );
    expect(codes).toEqual(['8480-6', '8462-4']);
    expect(JSON.stringify(obs.interpretation)).toContain('"code":"8410608.2"');
  });

  it('an interstitial-fluid glucose is never filed as blood glucose', () => {
    expect(() =>
      buildBundle(
        reading({
          kind: 'glucose',
          loinc: '2345-7',
          mdc: '160212',
          value: 120,
          decimals: 0,
          unit: 'mg/dL',
          time,
          context: { meal: 'fasting' },
        }),
        { solutionOid: SOLUTION },
      ),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' }));
  });

  it('PhdDevice: EUI-64 system id, BT MAC, MDC specialization, conditional create on the system id', () => {
    const { obs, device, deviceRequest } = parsed(
      reading(
        { kind: 'body-weight', loinc: '29463-7', mdc: '188736', value: 80.2, decimals: 1, unit: 'kg', time },
        {
          id: 'scale',
          identity: {
            systemId: 'a1b2c3fffe040506',
            address: 'aa:bb:cc:dd:ee:ff',
            manufacturer: 'M',
            model: 'S1',
          },
        },
      ),
    );
    expect(device.identifier).toEqual([
      {
        type: {
          coding: [
            { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' },
          ],
        },
        system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680',
        value: 'A1-B2-C3-FF-FE-04-05-06',
      },
      {
        type: {
          coding: [
            { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'BTMAC' },
          ],
        },
        system: 'http://hl7.org/fhir/sid/eui-48/bluetooth',
        value: 'AA-BB-CC-DD-EE-FF',
      },
    ]);
    expect(device.specialization).toEqual([
      { systemType: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '528399' }] }, version: '1' },
    ]);
    expect(deviceRequest).toEqual({
      method: 'POST',
      url: 'Device',
      ifNoneExist: 'identifier=urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|A1-B2-C3-FF-FE-04-05-06',
    });
    expect(obs.device).toEqual({ reference: `Device/${device.id}` });
  });

  it('a device without system id is named under the solution OID, deterministically', () => {
    const a = deviceIdentifier({ id: 'mqtt/scale 7' }, SOLUTION);
    expect(a).toMatchObject({ system: `urn:oid:${SOLUTION}.3`, value: 'gwmqtt-2fscale-207', sysid: false });
    expect(stableUuid('x')).toBe(stableUuid('x'));
    expect(stableUuid('x')).not.toBe(stableUuid('y'));
    expect(stableUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('blood pressure: components in mm[Hg], no value[x], the cuff specialization', () => {
    const c = (kind: Observation['kind'], loinc: string, value: number): Observation => ({
      kind,
      loinc,
      mdc: '1',
      value,
      decimals: 0,
      unit: 'mm[Hg]',
      time,
    });
    const { obs, device } = parsed(
      reading({
        kind: 'blood-pressure',
        loinc: '85354-9',
        mdc: '150020',
        time,
        components: [c('systolic', '8480-6', 120), c('diastolic', '8462-4', 80)],
      }),
    );
    expect(obs.valueQuantity).toBeUndefined();
    expect(
      (obs.component as { code: { coding: { code: string }[] }; valueQuantity: unknown }[]).map((x) => [
        x.code.coding[0]?.code,
        x.valueQuantity,
      ]),
    ).toEqual([
      ['8480-6', { value: 120, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
      ['8462-4', { value: 80, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
    ]);
    expect(JSON.stringify(device.specialization)).toContain('528391');
  });

  it('refuses, with a coded error, what the national side refuses by rule', () => {
    const cases: Observation[] = [
      { kind: 'bmi', loinc: '39156-5', mdc: '188752', value: 24, decimals: 0, unit: 'kg/m2', time },
      { kind: 'body-height', loinc: '8302-2', mdc: '188740', value: 172, decimals: 0, unit: 'cm', time },
      { kind: 'diastolic', loinc: '8462-4', mdc: '150022', value: 80, decimals: 0, unit: 'mm[Hg]', time },
      { kind: 'spo2', loinc: '2708-6', mdc: '150456', dataAbsentReason: 'not-a-number', time },
      {
        kind: 'spo2',
        loinc: '2708-6',
        mdc: '150456',
        value: 97,
        decimals: 0,
        unit: '%',
        time: { quality: 'untrusted' },
      },
      { kind: 'glucose', loinc: '2345-7', mdc: '160184', value: 5.4, decimals: 1, unit: 'mmol/L', time },
      {
        kind: 'glucose',
        loinc: '2345-7',
        mdc: '160184',
        value: 900,
        decimals: 0,
        unit: 'mg/dL',
        time,
        quarantine: { code: 'MEDGW_ERR_IMPLAUSIBLE_VALUE', reason: 'too high' },
      },
    ];
    for (const o of cases) {
      expect(() => buildBundle(reading(o), { solutionOid: SOLUTION }), o.kind).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' }),
      );
    }
  });
});
