/**
 * The two glucose Bundle generations: `mes-1.5.2` (MES API Mesures 1.5.2, glucose in the feeding Bundle)
 * and `ans-3.2.0` (ans.fhir.fr.mesures 3.2.0, glucose in `mesures-bundle-flux-alimentation-biologie` with
 * a `mesures-diagnostic-report`), each checked by the profile validator over the 3.2.0 differentials.
 */
import { describe, expect, it } from 'vitest';
import { type BridgeReading, buildBundle } from '../../cloud-bridge/bundle.ts';
import { toFhirJson } from '../../cloud-bridge/fhir-json.ts';
import type { Observation } from '../../drivers/types.ts';
import { validateMeasurementBundle } from '../../simulators/sandbox/profile-validator.ts';

const SOLUTION = '2.25.71922510045900526679301521263764504793';
const PAIRING = '2.25.223577281493925814735310533247560057336';
const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const time = { utc: '2026-11-22T07:15:00Z', quality: 'synced' as const };

const GLUCOSE: Observation = {
  kind: 'glucose',
  loinc: '2345-7',
  mdc: '160184',
  value: 98,
  decimals: 0,
  unit: 'mg/dL',
  time,
  context: { meal: 'fasting' },
};
const WEIGHT: Observation = {
  kind: 'body-weight',
  loinc: '29463-7',
  mdc: '188736',
  value: 72.4,
  decimals: 1,
  unit: 'kg',
  time,
};

const reading = (observation: Observation): BridgeReading => ({
  id: 'r1-0123',
  observation,
  device: { id: 'gls-1', identity: { systemId: '00-1C-05-FF-FE-12-34-56' } },
  patient: { idPe: 'PE-1', oid: PAIRING },
});

type Json = Record<string, unknown>;
const build = (o: Observation, generation?: 'mes-1.5.2' | 'ans-3.2.0'): Json =>
  JSON.parse(toFhirJson(buildBundle(reading(o), { solutionOid: SOLUTION, generation }))) as Json;
const entries = (b: Json) => b.entry as { fullUrl: string; resource: Json; request: Json }[];

describe('glucose Bundle generations', () => {
  it('ans-3.2.0: glucose travels in the biology Bundle with a report that holds it, and passes its profiles', () => {
    const bundle = build(GLUCOSE, 'ans-3.2.0');
    expect(bundle.meta).toEqual({ profile: [`${ANS}mesures-bundle-flux-alimentation-biologie`] });
    const [obs, report, device] = entries(bundle);
    expect(obs?.resource.resourceType).toBe('Observation');
    expect(obs?.resource.meta).toEqual({
      profile: [`${ANS}mesures-observation-glucose`],
      source: `urn:oid:${SOLUTION}`,
    });
    expect(report?.request).toEqual({ method: 'POST', url: 'DiagnosticReport' });
    expect(report?.resource).toMatchObject({
      resourceType: 'DiagnosticReport',
      meta: { profile: [`${ANS}mesures-diagnostic-report`] },
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '11502-2' }] },
      subject: { identifier: { system: `urn:oid:${PAIRING}`, value: 'PE-1' } },
      effectiveDateTime: '2026-11-22T07:15:00Z',
      result: [{ reference: obs?.fullUrl }],
    });
    expect(device?.request).toMatchObject({ method: 'POST', url: 'Device' });
    expect(validateMeasurementBundle(bundle, { glucoseInFeedingBundle: false })).toEqual([]);
    // the same reading, the same ids: a re-sent reading is the same Bundle
    expect(build(GLUCOSE, 'ans-3.2.0')).toEqual(bundle);
  });

  it('mes-1.5.2 (the default): glucose in the feeding Bundle, which the 3.2.0 rules refuse', () => {
    const bundle = build(GLUCOSE);
    expect(build(GLUCOSE, 'mes-1.5.2')).toEqual(bundle);
    expect(bundle.meta).toEqual({ profile: [`${ANS}mesures-bundle-flux-alimentation`] });
    expect(entries(bundle).map((e) => e.resource.resourceType)).toEqual(['Observation', 'Device']);
    expect(validateMeasurementBundle(bundle)).toEqual([]);
    const strict = validateMeasurementBundle(bundle, { glucoseInFeedingBundle: false });
    expect(strict).toEqual([
      expect.objectContaining({
        path: 'Bundle.entry[0].resource.meta.profile',
        message: expect.stringContaining('a Observation entry must declare one of'),
      }),
    ]);
    expect(strict[0]?.message).not.toContain('mesures-observation-glucose');
  });

  it('other kinds go in the feeding Bundle under both generations, the same bytes', () => {
    const a = toFhirJson(buildBundle(reading(WEIGHT), { solutionOid: SOLUTION, generation: 'ans-3.2.0' }));
    const b = toFhirJson(buildBundle(reading(WEIGHT), { solutionOid: SOLUTION }));
    expect(a).toBe(b);
    expect(validateMeasurementBundle(JSON.parse(a), { glucoseInFeedingBundle: false })).toEqual([]);
  });

  it('the validator holds the biology Bundle to its slices and the report to MesDiagnosticReport', () => {
    const bundle = build(GLUCOSE, 'ans-3.2.0');
    const [obs, report, device] = entries(bundle);
    const withEntries = (e: unknown[]) => ({ ...bundle, entry: e });

    // mes-diagnostic-report is 1..1
    const noReport = validateMeasurementBundle(withEntries([obs, device]));
    expect(noReport.map((i) => i.message).join('\n')).toMatch(
      /Bundle\.entry:mes-diagnostic-report is 1\.\.1/,
    );

    // the report's code is the pattern LOINC 11502-2
    const wrongCode = structuredClone(report) as { resource: Json };
    wrongCode.resource.code = { coding: [{ system: 'http://loinc.org', code: '11506-3' }] };
    expect(validateMeasurementBundle(withEntries([obs, wrongCode, device])).map((i) => i.path)).toContain(
      'Bundle.entry[1].resource.code',
    );

    // result:glycemie is 0..1: a report that lists the glucose twice is refused
    const twice = structuredClone(report) as { resource: Json };
    twice.resource.result = [{ reference: obs?.fullUrl }, { reference: obs?.fullUrl }];
    expect(
      validateMeasurementBundle(withEntries([obs, twice, device]))
        .map((i) => i.message)
        .join('\n'),
    ).toMatch(/DiagnosticReport\.result:glycemie is 0\.\.1/);

    // a weight is no biology Observation
    const weight = entries(build(WEIGHT))[0];
    expect(
      validateMeasurementBundle(withEntries([weight, report, device]))
        .map((i) => i.message)
        .join('\n'),
    ).toMatch(/a Observation entry must declare one of: .*mesures-observation-glucose/);
  });
});
