/**
 * The sandbox refuses what the real side would refuse by profile (issue "clinical fidelity" §6), and
 * checks every POSTed Bundle against the ANS Mesures de santé profiles and PhdDevice 1.0.0 the project
 * holds (simulators/sandbox/ans-profiles/). Every answer over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import {
  bundle,
  detailsText,
  device,
  diagnostics,
  observation,
  type Patient,
  pairByDeviceFlow,
  patientOf,
  postBundle,
  type Tokens,
  TRE_A04_LOINC,
  TRE_R308_TAASIP,
} from './helpers.ts';

type Json = Record<string, unknown>;
const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const MDC = 'urn:iso:std:iso:11073:10101';
const UCUM = 'http://unitsofmeasure.org';
const CISP2 = 'https://mos.esante.gouv.fr/NOS/TRE_R313-CISP2/FHIR/TRE-R313-CISP2';
const J157 = 'https://mos.esante.gouv.fr/NOS/JDV_J157-MomentGlucose-ENS/FHIR/JDV-J157-MomentGlucose-ENS';

let s: Sandbox;
let t: Tokens;
let p: Patient;
beforeAll(async () => {
  s = await createSandbox({ port: 0 });
  t = await pairByDeviceFlow(s, { login: 'marie.martin' });
  p = patientOf(t, s);
});
afterAll(async () => {
  await s.close();
});

const entries = (b: Json) => b.entry as Json[];
const obsOf = (b: Json) => entries(b)[0]?.resource as Json;
const devOf = (b: Json) => entries(b)[1]?.resource as Json;

let minute = 0;
/** A Bundle with a Device; each one at its own time so nothing collides. */
function make(kind: 'weight' | 'bp' | 'glucose' = 'weight', specialization = '528399'): Json {
  minute += 1;
  const at = `2026-10-0${1 + Math.floor(minute / 60)}T08:${String(minute % 60).padStart(2, '0')}:00+02:00`;
  const dev = device(`00-1B-DC-FF-FE-00-10-${String(minute % 100).padStart(2, '0')}`, specialization);
  return bundle(observation(p, kind, dev, at), dev);
}

function glucoseIn(code: string, unit: string, value = 1.04): Json {
  const b = make('glucose', '528401');
  obsOf(b).valueQuantity = { value, unit, system: UCUM, code: unit };
  obsOf(b).code = { coding: [{ system: 'http://loinc.org', code }] };
  return b;
}

function withMoment(system: string, code: string): Json {
  const b = make('glucose', '528401');
  obsOf(b).extension = [
    {
      url: `${ANS}mesures-moment-of-measurement`,
      valueCodeableConcept: { coding: [{ system, code }] },
    },
  ];
  return b;
}

function temperatureIn(unit: string, value: number): Json {
  const b = make('weight', '528392');
  const o = obsOf(b);
  o.meta = { profile: [`${ANS}mesures-fr-observation-body-temperature`] };
  o.code = { coding: [{ system: 'http://loinc.org', code: '8310-5' }] };
  o.valueQuantity = { value, unit, system: UCUM, code: unit };
  return b;
}

async function refused(b: Json, text: string): Promise<string> {
  const r = await postBundle(s, t, b);
  expect(r.status, JSON.stringify(r.body)).toBe(422);
  expect(r.body?.resourceType).toBe('OperationOutcome');
  expect(detailsText(r.body)).toBe(text);
  return diagnostics(r.body) ?? '';
}

async function accepted(b: Json): Promise<void> {
  const r = await postBundle(s, t, b);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe('glucose units: JDV_J163-GlucoseUnits-ENS (mg/dL, %)', () => {
  it('refuses blood glucose in g/L, for every blood glucose code', async () => {
    for (const code of ['2339-0', '2345-7', '41653-7']) {
      expect(await refused(glucoseIn(code, 'g/L'), 'Observation resource not valid.')).toBe(
        `Profile rule: valueQuantity must be in UCUM (${UCUM}) with code mg/dL.`,
      );
    }
  });

  it('refuses mmol/L, and takes mg/dL', async () => {
    expect(await refused(glucoseIn('2345-7', 'mmol/L', 5.8), 'Observation resource not valid.')).toMatch(
      /with code mg\/dL\.$/,
    );
    await accepted(glucoseIn('2345-7', 'mg/dL', 104));
  });
});

describe('glucose moment: required binding to JDV_J157-MomentGlucose-ENS', () => {
  it('takes each J157 code under its own system', async () => {
    for (const code of ['16915-1', '53049-3', '88365-2', 'LA11865-5', 'LA46-8']) {
      await accepted(withMoment(TRE_A04_LOINC, code));
    }
    await accepted(withMoment(CISP2, 'A05'));
  });

  it('refuses a J157 code under http://loinc.org (J157 includes the NOS TRE_A04-Loinc system)', async () => {
    expect(await refused(withMoment('http://loinc.org', '16915-1'), 'Observation resource not valid.')).toBe(
      `Profile rule: the moment http://loinc.org#16915-1 is not in JDV_J157-MomentGlucose-ENS (required binding, ${J157}).`,
    );
  });

  it('refuses a code outside J157, and a J157 code under the other system', async () => {
    for (const [system, code] of [
      [TRE_A04_LOINC, '14749-6'],
      [TRE_A04_LOINC, 'A05'],
      [CISP2, '16915-1'],
      ['urn:medgw:meal', 'casual'],
    ] as const) {
      expect(await refused(withMoment(system, code), 'Observation resource not valid.')).toBe(
        `Profile rule: the moment ${system}#${code} is not in JDV_J157-MomentGlucose-ENS (required binding, ${J157}).`,
      );
    }
  });
});

describe('interstitial glucose is never filed as blood glucose', () => {
  it('refuses a blood glucose code carrying MDC_CONC_GLU_ISF', async () => {
    const b = make('glucose', '528401');
    (obsOf(b).code as { coding: Json[] }).coding.push({ system: MDC, code: '160212' });
    expect(await refused(b, 'Observation resource not valid.')).toBe(
      `Profile rule: an interstitial-fluid glucose (${MDC}#160212 MDC_CONC_GLU_ISF) cannot be filed under a blood glucose code; interstitial glucose is MED-969 with numberOfDays.`,
    );
  });

  it('refuses 2345-7 from a continuous glucose monitor (PhdDevice specialization 528409)', async () => {
    const b = make('glucose', '528409');
    obsOf(b).code = { coding: [{ system: 'http://loinc.org', code: '2345-7' }] };
    expect(await refused(b, 'Observation resource not valid.')).toMatch(
      /^Profile rule: an interstitial-fluid glucose \(a CGM Device, urn:iso:std:iso:11073:10101#528409\)/,
    );
  });

  it('takes a capillary blood glucose with its MDC code, and MED-969 with a number of days', async () => {
    const blood = make('glucose', '528401');
    (obsOf(blood).code as { coding: Json[] }).coding.push({ system: MDC, code: '160184' });
    await accepted(blood);
    const isf = make('glucose', '528409');
    const o = obsOf(isf);
    o.code = { coding: [{ system: TRE_R308_TAASIP, code: 'MED-969' }] };
    o.extension = [
      {
        url: `${ANS}mesures-number-of-days`,
        valueCodeableConcept: { coding: [{ system: TRE_R308_TAASIP, code: 'GEN-275' }] },
      },
    ];
    await accepted(isf);
  });
});

describe('body temperature: the 3.2.0 profile fixes Cel', () => {
  it('refuses [degF] and takes Cel', async () => {
    expect(await refused(temperatureIn('[degF]', 99.1), 'Observation resource not valid.')).toBe(
      `Profile rule: valueQuantity must be in UCUM (${UCUM}) with code Cel.`,
    );
    await accepted(temperatureIn('Cel', 37.3));
  });
});

describe('PhdDevice 1.0.0: the elements it requires', () => {
  const cases: [string, (d: Json) => void, RegExp][] = [
    [
      'manufacturer',
      (d) => {
        d.manufacturer = undefined;
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.manufacturer: /,
    ],
    [
      'modelNumber',
      (d) => {
        d.modelNumber = undefined;
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.modelNumber: /,
    ],
    [
      'specialization',
      (d) => {
        d.specialization = undefined;
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.specialization: /,
    ],
    [
      'specialization.version',
      (d) => {
        (d.specialization as Json[])[0] = { ...(d.specialization as Json[])[0], version: undefined };
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.specialization\[0\]\.version: missing/,
    ],
    [
      'an MDC specialization code',
      (d) => {
        (d.specialization as Json[])[0] = {
          systemType: { coding: [{ system: 'http://snomed.info/sct', code: '19892000' }] },
          version: '1',
        };
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.specialization\[0\]\.systemType\.coding: missing: Device\.specialization\.systemType\.coding:MDCType is 1\.\.1/,
    ],
    [
      'the system id identifier (SYSID)',
      (d) => {
        const ids = d.identifier as Json[];
        ids[0] = { ...ids[0], type: undefined };
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.identifier: missing: Device\.identifier:systemIdIdentifier is 1\.\.1/,
    ],
    [
      'a single system id (a second one, under another system)',
      (d) => {
        (d.identifier as Json[]).push({
          type: {
            coding: [
              { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' },
            ],
          },
          system: 'urn:oid:1.2.3',
          value: 'ABC',
        });
      },
      /^Profile rule: Bundle\.entry\[1\]\.resource\.identifier: 2 values: Device\.identifier:systemIdIdentifier is 1\.\.1 \(slice\) \(PhdDevice\)$/,
    ],
  ];

  it.each(cases)(
    'a Device without %s → 422 Device resource not valid, with the path',
    async (_n, change, diag) => {
      const b = make();
      change(devOf(b));
      expect(await refused(b, 'Device resource not valid.')).toMatch(diag);
    },
  );

  it('a system id under another system than the EUI-64 one is named with its path', async () => {
    const b = make();
    (devOf(b).identifier as Json[]).push({
      type: {
        coding: [
          { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' },
        ],
      },
      system: 'urn:oid:1.2.3',
      value: 'ABC',
    });
    const r = await postBundle(s, t, b);
    expect(r.status).toBe(422);
    const issues = (r.body?.issue ?? []) as { diagnostics: string; expression?: string[] }[];
    expect(issues[1]).toMatchObject({
      diagnostics:
        'Profile rule: Bundle.entry[1].resource.identifier[1].system: Device.identifier:systemIdIdentifier.system must be "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680", found "urn:oid:1.2.3" (PhdDevice)',
      expression: ['Bundle.entry[1].resource.identifier[1].system'],
    });
  });

  it('every failing element is reported, each as one issue with its path as expression', async () => {
    const b = make();
    devOf(b).manufacturer = undefined;
    devOf(b).modelNumber = undefined;
    const r = await postBundle(s, t, b);
    expect(r.status).toBe(422);
    const issues = (r.body?.issue ?? []) as { diagnostics: string; expression?: string[] }[];
    expect(issues.map((i) => i.expression?.[0])).toEqual(
      expect.arrayContaining([
        'Bundle.entry[1].resource.manufacturer',
        'Bundle.entry[1].resource.modelNumber',
      ]),
    );
  });
});

describe('every Bundle is checked against the profiles', () => {
  it('refuses an unknown profile canonical beside a known one', async () => {
    const b = make();
    ((obsOf(b).meta as Json).profile as string[]).push('https://example.org/StructureDefinition/my-weight');
    expect(await refused(b, 'Observation resource not valid.')).toBe(
      'Profile rule: Bundle.entry[0].resource.meta.profile[1]: unknown profile https://example.org/StructureDefinition/my-weight',
    );
  });

  it('refuses a Bundle that names another Bundle profile', async () => {
    const b = make();
    b.meta = { profile: [`${ANS}mesures-bundle-flux-alimentation-unknown`] };
    expect(await refused(b, 'Bundle not valid.')).toBe(
      `Profile rule: Bundle.meta.profile: unknown profile ${ANS}mesures-bundle-flux-alimentation-unknown`,
    );
  });

  it('refuses the 3.2.0 biology Bundle profile under MES API Mesures 1.5.2 (the default generations)', async () => {
    const b = make('glucose', '528401');
    b.meta = { profile: [`${ANS}mesures-bundle-flux-alimentation-biologie`] };
    expect(await refused(b, 'Bundle not valid.')).toBe(
      `Profile rule: Bundle.meta.profile: ${ANS}mesures-bundle-flux-alimentation-biologie is the ans.fhir.fr.mesures 3.2.0 biology Bundle, not a Bundle of MES API Mesures 1.5.2.`,
    );
  });

  it('refuses what only the profile says: category display (ANS pattern), bodySite coding without system', async () => {
    const b = make('bp', '528391');
    obsOf(b).category = [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Signes vitaux',
          },
        ],
      },
    ];
    expect(await refused(b, 'Observation resource not valid.')).toBe(
      'Profile rule: Bundle.entry[0].resource.category[0].coding[0].display: Observation.category:VSCat.coding.display must match "vital-signs", found "Signes vitaux" (MesFrObservationBp)',
    );
    const bp = make('bp', '528391');
    obsOf(bp).bodySite = { coding: [{ code: '368209003' }] };
    expect(await refused(bp, 'Observation resource not valid.')).toBe(
      'Profile rule: Bundle.entry[0].resource.bodySite.coding[0].system: missing: Observation.bodySite.coding.system is 1..1 (MesFrObservationBp)',
    );
  });

  it('checks the MES and CI-SIS canonicals against the ANS profile of their kind', async () => {
    const b = make('bp', '528391');
    const o = obsOf(b);
    o.meta = {
      profile: ['https://fhir.monespacesante.fr/ref/mesure/StructureDefinition/mes-observation-bp'],
    };
    o.category = [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Signes vitaux',
          },
        ],
      },
    ];
    expect(await refused(b, 'Observation resource not valid.')).toBe(
      'Profile rule: Bundle.entry[0].resource.category[0].coding[0].display: Observation.category:VSCat.coding.display must match "vital-signs", found "Signes vitaux" (MesFrObservationBp)',
    );
  });

  it('refuses a malformed mesures-original-data extension', async () => {
    const b = make('glucose', '528401');
    (obsOf(b).extension as Json[]).push({
      url: `${ANS}mesures-original-data`,
      extension: [
        {
          url: 'original-value',
          valueQuantity: { value: 5.8, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
        },
      ],
    });
    expect(await refused(b, 'Observation resource not valid.')).toBe(
      'Profile rule: Bundle.entry[0].resource.extension[1].extension: mesures-original-data needs exactly one has-been-converted extension with valueBoolean true (MesOriginalData)',
    );
  });

  it('takes what the profiles allow: extra codings, interpretation, comparator, original data, the Bundle profile with glucose (MES 1.5.2)', async () => {
    const b = make('glucose', '528401');
    b.meta = { profile: [`${ANS}mesures-bundle-flux-alimentation`] };
    const o = obsOf(b);
    (o.code as { coding: Json[] }).coding.push(
      { system: MDC, code: '160184' },
      { system: 'http://loinc.org', code: '2345-7' },
    );
    o.valueQuantity = { value: 600, comparator: '>', unit: 'mg/dL', system: UCUM, code: 'mg/dL' };
    o.interpretation = [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'HH' },
        ],
      },
    ];
    (o.extension as Json[]).push({
      url: `${ANS}mesures-original-data`,
      extension: [
        { url: 'has-been-converted', valueBoolean: true },
        {
          url: 'original-code',
          valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '14749-6' }] },
        },
        {
          url: 'original-value',
          valueQuantity: { value: 33.3, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
        },
      ],
    });
    await accepted(b);
  });

  it('takes every gateway-shaped kind: weight, blood pressure, heart rate, SpO2, temperature', async () => {
    await accepted(make());
    await accepted(make('bp', '528391'));
    const hr = make('weight', '528391');
    obsOf(hr).meta = { profile: [`${ANS}mesures-fr-observation-heartrate`] };
    obsOf(hr).code = { coding: [{ system: 'http://loinc.org', code: '8867-4' }] };
    obsOf(hr).valueQuantity = { value: 64, unit: '/min', system: UCUM, code: '/min' };
    await accepted(hr);
    const spo2 = make('weight', '528388');
    obsOf(spo2).meta = { profile: [`${ANS}mesures-fr-observation-oxygen-sat`] };
    obsOf(spo2).code = {
      coding: [
        { system: 'http://loinc.org', code: '2708-6' },
        { system: 'http://loinc.org', code: '59408-5' },
      ],
    };
    obsOf(spo2).valueQuantity = { value: 97, unit: '%', system: UCUM, code: '%' };
    await accepted(spo2);
    await accepted(temperatureIn('Cel', 36.9));
  });

  it('audits a profile refusal without the measured value', async () => {
    const b = make();
    devOf(b).manufacturer = undefined;
    (obsOf(b).valueQuantity as Json).value = 83.417;
    await refused(b, 'Device resource not valid.');
    const last = s
      .audit()
      .filter((a) => a.event === 'observation.refused')
      .at(-1);
    expect(last?.message).toMatch(/manufacturer/);
    expect(JSON.stringify(s.audit())).not.toContain('83.417');
  });
});
