/**
 * Glucose Bundle generations over HTTP: a sandbox for MES API Mesures 1.5.2 (the default generations)
 * takes glucose in the feeding Bundle and refuses the ans.fhir.fr.mesures 3.2.0 biology Bundle with the
 * documented 422; a sandbox for `ans-3.2.0` takes the biology Bundle and refuses glucose in the feeding one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import type { ProfileGeneration } from '../../simulators/sandbox/profiles.ts';
import {
  biologyBundle,
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

type Json = Record<string, unknown>;
const GLUCOMETER = '528401';

interface Side {
  s: Sandbox;
  t: Tokens;
  p: Patient;
}
async function start(profileGenerations?: readonly ProfileGeneration[]): Promise<Side> {
  const s = await createSandbox({ port: 0, ...(profileGenerations ? { profileGenerations } : {}) });
  const t = await pairByDeviceFlow(s, { login: 'jean.dupont' });
  return { s, t, p: patientOf(t, s) };
}

let mes: Side;
let ans: Side;
let both: Side;
beforeAll(async () => {
  [mes, ans, both] = await Promise.all([start(), start(['ans-3.2.0']), start(['ans', 'ans-3.2.0'])]);
});
afterAll(async () => {
  await Promise.all([mes?.s.close(), ans?.s.close(), both?.s.close()]);
});

const send = (side: Side, b: Json) => postBundle(side.s, side.t, b);
const glucoseFeeding = (side: Side) => {
  const dev = device(undefined, GLUCOMETER);
  return bundle(observation(side.p, 'glucose', dev), dev);
};
const glucoseBiology = (side: Side, report: Json = {}) => {
  const dev = device(undefined, GLUCOMETER);
  return biologyBundle(observation(side.p, 'glucose', dev), dev, report);
};

describe('a sandbox for MES API Mesures 1.5.2 (default generations)', () => {
  it('takes glucose in the feeding Bundle', async () => {
    expect((await send(mes, glucoseFeeding(mes))).status).toBe(200);
  });

  it('refuses the biology Bundle: a DiagnosticReport is not a resource the contract takes (422)', async () => {
    const r = await send(mes, glucoseBiology(mes));
    expect(r.status).toBe(422);
    expect(detailsText(r.body)).toBe('Bundle not valid.');
    expect(diagnostics(r.body)).toBe('Resource of type DiagnosticReport is not acceptable with method POST.');
    expect(mes.s.observations().filter((o) => o.report)).toEqual([]);
  });
});

describe('a sandbox for ans.fhir.fr.mesures 3.2.0', () => {
  it('takes the biology Bundle and keeps the report with its reading', async () => {
    const before = ans.s.observations().length;
    const r = await send(ans, glucoseBiology(ans));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const responses = (r.body?.entry ?? []) as { response: { location: string } }[];
    const locations = responses.map((e) => e.response.location);
    expect(locations).toEqual([
      expect.stringMatching(/^Observation\/[0-9a-f-]{36}$/),
      expect.stringMatching(/^DiagnosticReport\/[0-9a-f-]{36}$/),
      expect.stringMatching(/^Device\//),
    ]);
    const stored = ans.s.observations().slice(before);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.kind).toBe('glucose');
    expect(stored[0]?.report?.resource).toMatchObject({
      resourceType: 'DiagnosticReport',
      id: locations[1]?.slice('DiagnosticReport/'.length),
      result: [{ reference: locations[0] }],
    });
  });

  it('refuses glucose in the feeding Bundle (422) and still takes a weight there', async () => {
    const r = await send(ans, glucoseFeeding(ans));
    expect(r.status).toBe(422);
    expect(detailsText(r.body)).toBe('Bundle not valid.');
    expect(diagnostics(r.body)).toMatch(
      /^Profile rule: a glucose Observation is in no slice of mesures-bundle-flux-alimentation .*mesures-bundle-flux-alimentation-biologie/,
    );
    const dev = device();
    expect((await send(ans, bundle(observation(ans.p, 'weight', dev), dev))).status).toBe(200);
  });

  it('refuses a weight in the biology Bundle, a report that does not hold the reading, and a Bundle without report', async () => {
    const dev = device();
    const weight = await send(ans, biologyBundle(observation(ans.p, 'weight', dev), dev));
    expect(weight.status).toBe(422);
    expect(diagnostics(weight.body)).toMatch(
      /a weight Observation goes in mesures-bundle-flux-alimentation\.$/,
    );

    const elsewhere = await send(ans, glucoseBiology(ans, { result: [{ reference: 'urn:uuid:0' }] }));
    expect(elsewhere.status).toBe(422);
    expect(diagnostics(elsewhere.body)).toMatch(
      /DiagnosticReport\.result must refer to the Bundle's Observation/,
    );

    const noReport = glucoseBiology(ans);
    noReport.entry = (noReport.entry as Json[]).filter(
      (e) => (e.resource as Json).resourceType !== 'DiagnosticReport',
    );
    const r = await send(ans, noReport);
    expect(r.status).toBe(422);
    const all = ((r.body?.issue ?? []) as { diagnostics: string }[]).map((i) => i.diagnostics).join('\n');
    expect(all).toMatch(/Bundle\.entry:mes-diagnostic-report is 1\.\.1/);
  });

  it("refuses a report that names another patient (403, as the Observation's subject)", async () => {
    const r = await send(
      ans,
      glucoseBiology(ans, {
        subject: { identifier: { system: `urn:oid:${ans.p.pairingOid}`, value: 'SOMEONE-ELSE' } },
      }),
    );
    expect(r.status).toBe(403);
    expect(diagnostics(r.body)).toBe('idPe requested do not match authorized idPe.');
  });
});

describe('a sandbox for both generations', () => {
  it('takes either glucose form', async () => {
    expect((await send(both, glucoseFeeding(both))).status).toBe(200);
    expect((await send(both, glucoseBiology(both))).status).toBe(200);
  });
});
