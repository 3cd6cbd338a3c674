/** Accepted Bundles (weight, blood pressure, glucose) and reading them back with GET /fhir/Observation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, GATEWAY_SOLUTION_OID, type Sandbox } from '../../simulators/sandbox/index.ts';
import {
  bundle,
  detailsText,
  device,
  diagnostics,
  headers,
  observation,
  type Patient,
  pairByDeviceFlow,
  patientOf,
  postBundle,
  type Tokens,
  TRE_R308_TAASIP,
} from './helpers.ts';

type Json = Record<string, unknown>;
const FIXED = Date.parse('2026-11-21T10:00:00Z');

let s: Sandbox;
let t: Tokens;
let p: Patient;
beforeAll(async () => {
  s = await createSandbox({ port: 0, clock: { now: () => FIXED } });
  t = await pairByDeviceFlow(s, { login: 'jean.dupont' });
  p = patientOf(t, s);
});
afterAll(async () => {
  await s.close();
});

async function search(query: string, tokens: Pick<Tokens, 'access_token' | 'id_token'> = t) {
  const res = await fetch(`${s.url}/fhir/Observation?${query}`, { headers: headers(tokens, s) });
  return { status: res.status, body: (await res.json()) as Json };
}

const subject = () => `subject.identifier=${encodeURIComponent(`urn:oid:${p.pairingOid}|${p.idPe}`)}`;

describe('POST /fhir accepted', () => {
  it('creates a weight Observation and its Device, then finds the Device again by identifier', async () => {
    const dev = device('00-1B-DC-FF-FE-00-00-01');
    const r = await postBundle(s, t, bundle(observation(p, 'weight', dev, '2026-11-19T07:00:00+01:00'), dev));
    expect(r.status).toBe(200);
    const entry = r.body?.entry as { response: { status: string; location: string } }[];
    expect(r.body?.type).toBe('transaction-response');
    expect(entry[0]?.response.status).toBe('201 Created');
    expect(entry[0]?.response.location).toMatch(/^Observation\/[0-9a-f-]{36}$/);
    expect(entry[1]?.response).toEqual({ status: '201 Created', location: `Device/${String(dev.id)}` });

    const again = device('00-1B-DC-FF-FE-00-00-01');
    const r2 = await postBundle(
      s,
      t,
      bundle(observation(p, 'weight', again, '2026-11-20T07:00:00+01:00'), again),
    );
    expect(r2.status).toBe(200);
    const e2 = r2.body?.entry as { response: { status: string; location: string } }[];
    expect(e2[1]?.response).toEqual({ status: '200 OK', location: `Device/${String(dev.id)}` });
    const stored = s.observations().find((o) => `Observation/${o.id}` === e2[0]?.response.location);
    expect(stored?.deviceId).toBe(dev.id);
    expect((stored?.resource.device as Json | undefined)?.reference).toBe(`Device/${String(dev.id)}`);
    expect(stored?.receivedAt).toBe('2026-11-21T10:00:00.000Z');
    expect(s.devices()).toHaveLength(1);
  });

  it('accepts blood pressure without a Device and fills meta.source when absent', async () => {
    const obs = observation(p, 'bp', undefined, '2026-11-19T08:00:00+01:00');
    obs.meta = { profile: (obs.meta as Json).profile };
    const r = await postBundle(s, t, bundle(obs));
    expect(r.status).toBe(200);
    expect(r.body?.entry as unknown[]).toHaveLength(1);
    const stored = s.observations().at(-1);
    expect(stored?.kind).toBe('blood-pressure');
    expect((stored?.resource.meta as Json | undefined)?.source).toBe(`urn:oid:${GATEWAY_SOLUTION_OID}`);
  });

  it('accepts blood glucose with its moment, and the MES and ENS profile canonicals', async () => {
    const dev = device('00-1B-DC-FF-FE-00-00-02', '528401');
    expect((await postBundle(s, t, bundle(observation(p, 'glucose', dev), dev))).status).toBe(200);
    for (const url of [
      'https://fhir.monespacesante.fr/ref/mesure/StructureDefinition/mes-observation-bodyweight',
      'http://esante.gouv.fr/ci-sis/fhir/StructureDefinition/ENS_FrObservationBodyWeight',
    ]) {
      const obs = observation(p, 'weight', undefined, '2026-11-10T07:00:00+01:00');
      obs.meta = { profile: [url] };
      expect((await postBundle(s, t, bundle(obs))).status).toBe(200);
    }
  });

  it('accepts a Bundle shaped like the specification example: Device first, bare-uuid fullUrl, ENS profile and extension', async () => {
    const dev = device('00-1B-DC-FF-FE-00-00-03', '528457');
    dev.deviceName = [{ name: 'Ma balance', type: 'patient-reported-name' }];
    dev.specialization = [
      { systemType: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '528457' }] }, version: '2.3' },
    ];
    const obs = observation(p, 'weight', dev, '2026-11-12T01:56:16+01:00');
    obs.meta = {
      profile: ['http://esante.gouv.fr/ci-sis/fhir/StructureDefinition/ENS_FrObservationBodyWeight'],
    };
    obs.identifier = undefined;
    obs.extension = [
      {
        url: 'http://esante.gouv.fr/ci-sis/fhir/StructureDefinition/ENS_ReasonForMeasurement',
        valueString: 'contrôle',
      },
    ];
    const b = bundle(obs, dev);
    const [o, d] = b.entry as Json[];
    (o as Json).fullUrl = '0f8b7d4e-2a61-4c55-9d8e-3b1f6a7c9e21';
    b.entry = [d, o];
    const r = await postBundle(s, t, b);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const e = r.body?.entry as { response: { location: string } }[];
    expect(e[0]?.response.location).toMatch(/^Observation\//);
    expect(e[1]?.response.location).toBe(`Device/${String(dev.id)}`);
  });

  it.each([
    [
      'heart rate',
      'mesures-fr-observation-heartrate',
      { system: 'http://loinc.org', code: '8867-4' },
      64,
      '/min',
      [],
    ],
    [
      'temperature',
      'mesures-fr-observation-body-temperature',
      { system: 'http://loinc.org', code: '8310-5' },
      37.2,
      'Cel',
      [],
    ],
    [
      'SpO2',
      'mesures-fr-observation-oxygen-sat',
      { system: 'http://loinc.org', code: '2708-6' },
      97,
      '%',
      [],
    ],
    ['HbA1c', 'mesures-observation-glucose', { system: 'http://loinc.org', code: '4548-4' }, 6.8, '%', []],
    [
      'interstitial glucose over 14 days',
      'mesures-observation-glucose',
      // JDV_J154-TypeGlucose-ENS: MED-969 is a TRE_R308-TAASIP code.
      { system: TRE_R308_TAASIP, code: 'MED-969' },
      132,
      'mg/dL',
      [
        {
          url: 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-number-of-days',
          valueCodeableConcept: {
            coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP', code: 'GEN-276' }],
          },
        },
      ],
    ],
  ])('accepts %s', async (_name, profile, coding, value, unit, extension) => {
    const obs = observation(p, 'weight', undefined, '2026-10-01T09:00:00+02:00');
    obs.meta = { profile: [`https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/${profile}`] };
    obs.code = { coding: [coding] };
    obs.valueQuantity = { value, unit, system: 'http://unitsofmeasure.org', code: unit };
    if ((extension as unknown[]).length > 0) obs.extension = extension;
    const r = await postBundle(s, t, bundle(obs));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('does not deduplicate: the same Bundle twice makes two Observations, the second flagged', async () => {
    const b = bundle(observation(p, 'weight', undefined, '2026-11-05T07:00:00+01:00'));
    const a = await postBundle(s, t, b);
    const c = await postBundle(s, t, b);
    expect(a.status).toBe(200);
    expect(c.status).toBe(200);
    const [first, second] = s.observations().slice(-2);
    expect(first?.id).not.toBe(second?.id);
    expect(second?.duplicateOf).toBe(first?.id);
    const res = await fetch(`${s.url}/_sandbox/observations`);
    const listed = (await res.json()) as { id: string; duplicateOf?: string }[];
    expect(listed.find((o) => o.id === second?.id)?.duplicateOf).toBe(first?.id);
  });
});

describe('GET /fhir/Observation', () => {
  it('mode all: date range, paging with next/previous links, total, devices included once', async () => {
    const all = await search(
      `${subject()}&code=29463-7&date=ge2026-11-01&date=le2026-11-30&_include=Observation:device`,
    );
    expect(all.status).toBe(200);
    expect(all.body.type).toBe('searchset');
    const matches = (all.body.entry as { resource: Json; search: { mode: string } }[]).filter(
      (e) => e.search.mode === 'match',
    );
    const included = (all.body.entry as { resource: Json; search: { mode: string } }[]).filter(
      (e) => e.search.mode === 'include',
    );
    expect(all.body.total).toBe(7);
    expect(matches).toHaveLength(7);
    expect(included).toHaveLength(2);
    expect(included[0]?.resource.resourceType).toBe('Device');
    const dates = matches.map((m) => Date.parse(String(m.resource.effectiveDateTime)));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);

    const page0 = await search(`${subject()}&code=29463-7&date=ge2026-11-01&date=le2026-11-30&_count=4`);
    expect(page0.body.total).toBe(7);
    expect(page0.body.entry as unknown[]).toHaveLength(4);
    const next = (page0.body.link as { relation: string; url: string }[]).find((l) => l.relation === 'next');
    expect(next?.url).toContain('_offset=1');
    const page1 = await fetch(next?.url ?? '', { headers: headers(t, s) });
    const body1 = (await page1.json()) as Json;
    expect(body1.entry as unknown[]).toHaveLength(3);
    expect((body1.link as { relation: string }[]).map((l) => l.relation).sort()).toEqual([
      'previous',
      'self',
    ]);

    const narrow = await search(`${subject()}&code=29463-7&date=ge2026-11-19&date=le2026-11-19`);
    expect(narrow.body.total).toBe(1);
  });

  it('mode last: the newest Observation of the code; the subject may omit urn:oid:', async () => {
    const last = await search(
      `subject.identifier=${encodeURIComponent(`${p.pairingOid}|${p.idPe}`)}&code=29463-7&_sort=-date&_count=1`,
    );
    expect(last.status).toBe(200);
    const only = (last.body.entry as { resource: Json }[])[0]?.resource;
    expect(last.body.entry as unknown[]).toHaveLength(1);
    expect(only?.effectiveDateTime).toBe('2026-11-20T07:00:00+01:00');
    const bp = await search(`${subject()}&code=85354-9&_sort=-date&_count=1`);
    expect(((bp.body.entry as { resource: Json }[])[0]?.resource.code as Json | undefined)?.coding).toEqual([
      { system: 'http://loinc.org', code: '85354-9' },
    ]);
  });

  it.each([
    [
      '_count above 100',
      '&code=29463-7&date=ge2026-11-01&date=le2026-11-30&_count=101',
      'Maximum page size allowed is 100. Actual : 101',
    ],
    [
      'last with another sort',
      '&code=29463-7&_sort=date&_count=1',
      'Sort parameter must be equals to -date (date DESC) with _count equals to 1 to retrieve last observation',
    ],
    [
      'last with _count 2',
      '&code=29463-7&_sort=-date&_count=2',
      'Sort parameter must be equals to -date (date DESC) with _count equals to 1 to retrieve last observation',
    ],
    [
      'last and paging together',
      '&code=29463-7&_sort=-date&_count=1&date=ge2026-11-01&date=le2026-11-30',
      'Paged search and search last cannot be requested concurrently',
    ],
    ['no mode', '&code=29463-7', 'No search mode detected'],
    ['one date bound only', '&code=29463-7&date=ge2026-11-01', 'No search mode detected'],
  ])('%s → 400', async (_name, query, message) => {
    const r = await search(`${subject()}${query}`);
    expect(r.status).toBe(400);
    expect(detailsText(r.body)).toBe('Request not valid');
    expect(diagnostics(r.body)).toBe(message);
  });

  it('another idPe → 403, and another patient sees none of these Observations', async () => {
    const r = await search(
      `subject.identifier=${encodeURIComponent(`urn:oid:${p.pairingOid}|PE-SBX-0001`)}&code=29463-7&_sort=-date&_count=1`,
    );
    expect(r.status).toBe(403);
    expect(diagnostics(r.body)).toBe('idPe requested do not match authorized idPe.');

    const other = await pairByDeviceFlow(s, { login: 'marie.martin' });
    const op = patientOf(other, s);
    const mine = await search(
      `subject.identifier=${encodeURIComponent(`urn:oid:${op.pairingOid}|${op.idPe}`)}&code=29463-7&date=ge2026-01-01&date=le2026-12-31`,
      other,
    );
    expect(mine.status).toBe(200);
    expect(mine.body.total).toBe(0);
  });

  it('a kind without consent → 403 on read too', async () => {
    const weightOnly = await pairByDeviceFlow(s, { login: 'lea.bernard', kinds: ['weight'] });
    const lp = patientOf(weightOnly, s);
    const r = await search(
      `subject.identifier=${encodeURIComponent(`urn:oid:${lp.pairingOid}|${lp.idPe}`)}&code=2339-0&_sort=-date&_count=1`,
      weightOnly,
    );
    expect(r.status).toBe(403);
    expect(diagnostics(r.body)).toBe('Consent not given, access refused.');
  });
});

describe('profile generations', () => {
  it('a sandbox limited to the ANS canonicals refuses the MES one', async () => {
    const strict = await createSandbox({ port: 0, profileGenerations: ['ans'] });
    try {
      const tt = await pairByDeviceFlow(strict, { login: 'jean.dupont' });
      const obs = observation(patientOf(tt, strict), 'weight');
      obs.meta = {
        profile: ['https://fhir.monespacesante.fr/ref/mesure/StructureDefinition/mes-observation-bodyweight'],
      };
      const r = await postBundle(strict, tt, bundle(obs));
      expect(r.status).toBe(422);
      expect(diagnostics(r.body)).toMatch(/^Profile rule: meta.profile .* names no measurement profile/);
    } finally {
      await strict.close();
    }
  });
});
