/**
 * Every documented answer of POST /fhir (MES API Mesures v1.5.2 §2.2.8), provoked over real HTTP and
 * asserted on status and exact message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, GATEWAY_SOLUTION_OID, type Sandbox } from '../../simulators/sandbox/index.ts';
import {
  ALL_KIND_SCOPES,
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
} from './helpers.ts';

const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';

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

type Json = Record<string, unknown>;
const entries = (b: Json) => b.entry as Json[];
const obsOf = (b: Json) => entries(b)[0]?.resource as Json;
const devEntryOf = (b: Json) => entries(b)[1] as Json;

function withDevice(kind: 'weight' | 'bp' | 'glucose' = 'weight'): Json {
  const dev = device();
  return bundle(observation(p, kind, dev), dev);
}

interface Case {
  name: string;
  make: () => Json;
  status: number;
  text: string;
  diag: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'not a transaction',
    make: () => ({ ...withDevice(), type: 'batch' }),
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Bundle.type must be transaction.',
  },
  {
    name: 'FHIR R4 structure (a string value)',
    make: () => {
      const b = withDevice();
      (obsOf(b).valueQuantity as Json).value = '71.2';
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: /expected number/,
  },
  {
    name: 'FHIR R4 structure (an unknown element)',
    make: () => {
      const b = withDevice();
      obsOf(b).weight = 71;
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: /Invalid additional property "weight"/,
  },
  {
    name: 'FHIR R4 required binding (Device.deviceName.type)',
    make: () => {
      const b = withDevice();
      (devEntryOf(b).resource as Json).deviceName = [{ name: 'Ma balance', type: 'nickname' }];
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: /^Device.deviceName.type \(device-nametype\): "nickname" is not in the required value set/,
  },
  {
    name: 'a resource other than Observation/Device',
    make: () => {
      const b = withDevice();
      entries(b).push({ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } });
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Resource of type Patient is not acceptable with method POST.',
  },
  {
    name: 'an Observation with PUT',
    make: () => {
      const b = withDevice();
      (entries(b)[0] as Json).request = { method: 'PUT', url: 'Observation' };
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Resource of type Observation is not acceptable with method PUT.',
  },
  {
    name: 'no Observation',
    make: () => {
      const b = withDevice();
      entries(b).splice(0, 1);
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Bundle must contains one observation creation (POST)',
  },
  {
    name: 'two Observations',
    make: () => {
      const b = bundle(observation(p, 'weight'));
      entries(b).push(...entries(bundle(observation(p, 'weight'))));
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Bundle must contains one observation creation (POST)',
  },
  {
    name: 'Device without ifNoneExist',
    make: () => {
      const b = withDevice();
      (devEntryOf(b).request as Json).ifNoneExist = undefined;
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Device request must have a valid IfNoneExist attribute : identifier=urn:oid:<OID>',
  },
  {
    name: 'ifNoneExist naming another identifier',
    make: () => {
      const b = withDevice();
      (devEntryOf(b).request as Json).ifNoneExist = 'identifier=urn:oid:1.2.3|OTHER-ID';
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Device request must have a valid IfNoneExist attribute : identifier=urn:oid:<OID>',
  },
  {
    name: 'Device without meta.profile',
    make: () => {
      const b = withDevice();
      (devEntryOf(b).resource as Json).meta = undefined;
      return b;
    },
    status: 422,
    text: 'Device resource not valid.',
    diag: 'Device must provide meta.profile value.',
  },
  {
    name: 'Observation without meta.profile',
    make: () => {
      const b = withDevice();
      obsOf(b).meta = { source: `urn:oid:${GATEWAY_SOLUTION_OID}` };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation must provide meta.profile value.',
  },
  {
    name: 'Device sent, Observation does not reference it',
    make: () => {
      const b = withDevice();
      obsOf(b).device = undefined;
      return b;
    },
    status: 422,
    text: 'Observation and Device link not valid.',
    diag: 'Observation.device.reference is mandatory.',
  },
  {
    name: 'Observation references another Device id',
    make: () => {
      const b = withDevice();
      obsOf(b).device = { reference: 'Device/8d1c2c7e-0000-4000-8000-000000000000' };
      return b;
    },
    status: 422,
    text: 'Observation and Device link not valid.',
    diag: 'Observation and device not linked by id (Observation.device.reference <-> Device.id)',
  },
  {
    name: 'no subject.identifier',
    make: () => {
      const b = withDevice();
      obsOf(b).subject = { display: 'Marie' };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation.subject.identifier is mandatory.',
  },
  {
    name: 'another idPe',
    make: () => {
      const b = withDevice();
      obsOf(b).subject = { identifier: { system: `urn:oid:${p.pairingOid}`, value: 'PE-SBX-0002' } };
      return b;
    },
    status: 403,
    text: 'idPe requested do not match authorized idPe.',
    diag: 'idPe requested do not match authorized idPe.',
  },
  {
    name: 'meta.source outside the solution OID',
    make: () => {
      const b = withDevice();
      (obsOf(b).meta as Json).source = 'urn:oid:2.25.1';
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: `Solution oid contains in Observation.meta.source don't belong to root editor oid (${GATEWAY_SOLUTION_OID}).`,
  },
  {
    name: 'meta.source that only shares a prefix of digits',
    make: () => {
      const b = withDevice();
      (obsOf(b).meta as Json).source = `urn:oid:${GATEWAY_SOLUTION_OID}9`;
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: `Solution oid contains in Observation.meta.source don't belong to root editor oid (${GATEWAY_SOLUTION_OID}).`,
  },
  {
    name: 'BMI',
    make: () => {
      const b = withDevice();
      const o = obsOf(b);
      o.code = { coding: [{ system: 'http://loinc.org', code: '39156-5' }] };
      o.meta = { profile: [`${ANS}mesures-fr-observation-bmi`] };
      o.valueQuantity = { value: 22.4, unit: 'kg/m2', system: 'http://unitsofmeasure.org', code: 'kg/m2' };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Bmi observation cannot be created.',
  },
  {
    name: 'no value quantity',
    make: () => {
      const b = withDevice();
      obsOf(b).valueQuantity = undefined;
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation value quantity not provided.',
  },
  {
    name: 'blood pressure without its diastolic value',
    make: () => {
      const b = withDevice('bp');
      (obsOf(b).component as Json[]).splice(1, 1);
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation value quantity not provided.',
  },
  {
    name: 'blood glucose without moment',
    make: () => {
      const b = withDevice('glucose');
      obsOf(b).extension = undefined;
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation.extension.moment is mandatory.',
  },
  {
    name: 'blood glucose with a number of days',
    make: () => {
      const b = withDevice('glucose');
      (obsOf(b).extension as Json[]).push({
        url: `${ANS}mesures-number-of-days`,
        valueCodeableConcept: {
          coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP', code: 'GEN-275' }],
        },
      });
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation.extension.numberOfDays cannot be added.',
  },
  {
    name: 'HbA1c with a moment',
    make: () => {
      const b = withDevice('glucose');
      const o = obsOf(b);
      o.code = { coding: [{ system: 'http://loinc.org', code: '4548-4' }] };
      o.valueQuantity = { value: 6.8, unit: '%', system: 'http://unitsofmeasure.org', code: '%' };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation.extension.moment cannot be added.',
  },
  {
    name: 'interstitial glucose without a number of days',
    make: () => {
      const b = withDevice('glucose');
      const o = obsOf(b);
      o.code = { coding: [{ code: 'MED-969' }] };
      o.extension = undefined;
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation.extension.numberOfDays is mandatory.',
  },
  {
    name: 'weight in pounds (the profile fixes kg)',
    make: () => {
      const b = withDevice();
      obsOf(b).valueQuantity = {
        value: 157,
        unit: 'lb',
        system: 'http://unitsofmeasure.org',
        code: '[lb_av]',
      };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: /^Profile rule: valueQuantity must be in UCUM .* with code kg\.$/,
  },
  {
    name: 'a weight code under the blood-pressure profile',
    make: () => {
      const b = withDevice();
      obsOf(b).meta = { profile: [`${ANS}mesures-fr-observation-bp`] };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Profile rule: code 29463-7 is a weight code but meta.profile is the blood-pressure profile.',
  },
  {
    name: 'an effective time without a time zone',
    make: () => {
      const b = withDevice();
      obsOf(b).effectiveDateTime = '2026-11-20T08:15:00';
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Profile rule: effectiveDateTime is mandatory, with a time and a time zone.',
  },
  {
    name: 'the Observation entry without fullUrl',
    make: () => {
      const b = withDevice();
      (entries(b)[0] as Json).fullUrl = undefined;
      return b;
    },
    status: 422,
    text: 'Bundle not valid.',
    diag: 'Bundle.entry.fullUrl is mandatory for the Observation.',
  },
  {
    name: 'a Device reference with no Device in the Bundle',
    make: () => {
      const o = observation(p, 'weight');
      o.device = { reference: 'Device/8d1c2c7e-0000-4000-8000-000000000000' };
      return bundle(o);
    },
    status: 422,
    text: 'Observation and Device link not valid.',
    diag: 'Observation and device not linked by id (Observation.device.reference <-> Device.id)',
  },
  {
    name: 'a Device under another profile',
    make: () => {
      const b = withDevice();
      (devEntryOf(b).resource as Json).meta = { profile: ['http://hl7.org/fhir/StructureDefinition/Device'] };
      return b;
    },
    status: 422,
    text: 'Device resource not valid.',
    diag: 'Profile rule: Device meta.profile must be http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice.',
  },
  {
    name: 'a Device that is not a personal health device (type)',
    make: () => {
      const b = withDevice();
      (devEntryOf(b).resource as Json).type = {
        coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '528399' }],
      };
      return b;
    },
    status: 422,
    text: 'Device resource not valid.',
    diag: 'Profile rule: Device.type must be urn:iso:std:iso:11073:10101#65573.',
  },
  {
    name: 'blood pressure with a value[x]',
    make: () => {
      const b = withDevice('bp');
      obsOf(b).valueQuantity = {
        value: 128,
        unit: 'mm[Hg]',
        system: 'http://unitsofmeasure.org',
        code: 'mm[Hg]',
      };
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Profile rule: blood pressure carries its values in component, not value[x].',
  },
  {
    name: 'a status outside the R4 value set',
    make: () => {
      const b = withDevice();
      obsOf(b).status = 'done';
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Observation.status must be a code of http://hl7.org/fhir/ValueSet/observation-status (required binding).',
  },
  {
    name: 'a category other than vital-signs',
    make: () => {
      const b = withDevice();
      obsOf(b).category = [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
          ],
        },
      ];
      return b;
    },
    status: 422,
    text: 'Observation resource not valid.',
    diag: 'Profile rule: category must hold http://terminology.hl7.org/CodeSystem/observation-category#vital-signs.',
  },
];

describe('POST /fhir refusals', () => {
  it.each(cases)('$name → $status', async (c) => {
    const r = await postBundle(s, t, c.make());
    expect(r.status, JSON.stringify(r.body)).toBe(c.status);
    expect(r.body?.resourceType).toBe('OperationOutcome');
    expect(detailsText(r.body)).toBe(c.text);
    if (typeof c.diag === 'string') expect(diagnostics(r.body)).toBe(c.diag);
    else expect(diagnostics(r.body)).toMatch(c.diag);
  });

  it('an empty body → 400 No bundle provided.', async () => {
    const res = await fetch(`${s.url}/fhir`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.access_token}`, [s.idTokenHeader]: t.id_token },
    });
    expect(res.status).toBe(400);
    expect(diagnostics(await res.json())).toBe('No bundle provided.');
  });

  it('a body that is not JSON → an OperationOutcome, never an HTML or framework error', async () => {
    const send = (contentType: string, body: string) =>
      fetch(`${s.url}/fhir`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.access_token}`,
          [s.idTokenHeader]: t.id_token,
          'content-type': contentType,
        },
        body,
      });
    const text = await send('text/plain', 'weight=71');
    expect(text.status).toBe(400);
    expect(diagnostics(await text.json())).toBe('No bundle provided.');
    const broken = await send('application/fhir+json', '{"resourceType": "Bundle",');
    expect(broken.status).toBe(400);
    expect(diagnostics(await broken.json())).toBe('No bundle provided.');
    const xml = await send('application/fhir+xml', '<Bundle/>');
    expect(xml.status).toBe(415);
    expect(((await xml.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('no access token or an unknown one → 401', async () => {
    for (const authorization of [undefined, 'Bearer not-a-token', `Basic ${t.access_token}`]) {
      const res = await fetch(`${s.url}/fhir`, {
        method: 'POST',
        headers: {
          ...(authorization ? { authorization } : {}),
          [s.idTokenHeader]: t.id_token,
          'content-type': 'application/fhir+json',
        },
        body: JSON.stringify(withDevice()),
      });
      expect(res.status).toBe(401);
      expect(diagnostics(await res.json())).toBe('Unauthorized');
    }
  });

  it('a missing, forged or foreign ID token → 400 invalid JWT', async () => {
    const other = await pairByDeviceFlow(s, { login: 'jean.dupont' });
    const [h, payload] = t.id_token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
        idpe: 'PE-SBX-0002',
      }),
    ).toString('base64url');
    const forged = `${h}.${forgedPayload}.${t.id_token.split('.')[2]}`;
    for (const idToken of ['', 'abc.def', forged, other.id_token]) {
      const r = await postBundle(s, { access_token: t.access_token, id_token: idToken }, withDevice());
      expect(r.status).toBe(400);
      expect(diagnostics(r.body)).toBe(
        'HTTP code 400 : Bad request -> The ID_TOKEN value is not valid (invalid JWT)',
      );
    }
  });

  it('the solution OID changed on the national side → 409 OID conflict', async () => {
    s.setSolutionOid('medgw-gateway', '2.25.999');
    try {
      const r = await postBundle(s, t, withDevice());
      expect(r.status).toBe(409);
      expect(diagnostics(r.body)).toBe(
        'HTTP code 409 :OID conflict between the one from id_token and the one in the system -> OID different between id_token and ecosystem',
      );
    } finally {
      s.setSolutionOid('medgw-gateway', GATEWAY_SOLUTION_OID);
    }
  });

  it('a kind without consent → 403, then every kind withdrawn → 403 before the body is read', async () => {
    const weightOnly = await pairByDeviceFlow(
      s,
      { login: 'lea.bernard', kinds: ['weight'] },
      `openid ${ALL_KIND_SCOPES}`,
    );
    const lp = patientOf(weightOnly, s);
    const bp = await postBundle(s, weightOnly, bundle(observation(lp, 'bp')));
    expect(bp.status).toBe(403);
    expect(diagnostics(bp.body)).toBe('Consent not given, access refused.');
    expect((await postBundle(s, weightOnly, bundle(observation(lp, 'weight')))).status).toBe(200);
    s.revokeConsent('sbx-patient-3', 'medgw-gateway', ['weight']);
    const none = await postBundle(s, weightOnly, {});
    expect(none.status).toBe(403);
    expect(diagnostics(none.body)).toBe('Consent not given, access refused.');
  });

  it('audits every refusal without values', () => {
    const refused = s.audit().filter((a) => a.event === 'observation.refused');
    expect(refused.length).toBeGreaterThanOrEqual(cases.length);
    expect(JSON.stringify(refused)).not.toContain('71.2');
  });
});
