import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GATEWAY_SOLUTION_OID } from './identities.ts';
import { checkTransaction, Refusal, type TransactionContext } from './rules.ts';

const ctx: TransactionContext = {
  solutionOid: GATEWAY_SOLUTION_OID,
  pairingOid: '2.25.1',
  idPe: 'PE-1',
  generations: ['ans', 'mes', 'ens'],
  consented: new Set(['weight', 'blood-pressure', 'heart-rate', 'glucose', 'temperature', 'spo2']),
};

const valid = () => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:4b0e7d3c-8c1f-4d8e-9f0a-2b6a1c3d4e5f',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        meta: {
          profile: [
            'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-fr-observation-heartrate',
          ],
        },
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

function outcome(body: unknown): 'accepted' | number {
  try {
    checkTransaction(body, ctx);
    return 'accepted';
  } catch (e) {
    if (e instanceof Refusal) return e.status;
    throw e;
  }
}

describe('checkTransaction', () => {
  it('accepts a valid heart-rate Bundle', () => {
    expect(outcome(valid())).toBe('accepted');
  });

  it('never fails with anything but a Refusal on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = outcome(v);
        expect(r === 'accepted' ? 200 : r).toBeGreaterThanOrEqual(200);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an object with hostile keys where a primitive belongs, without failing', () => {
    const b = valid();
    (b.entry[0]?.resource as Record<string, unknown>).effectiveDateTime = { valueOf: '' };
    expect(outcome(b)).toBe(422);
  });

  it('refuses (400/403/422) when any one field of the Observation is replaced by an arbitrary value', () => {
    const fields = ['meta', 'category', 'code', 'subject', 'effectiveDateTime', 'valueQuantity', 'status'];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const b = valid();
        const obs = b.entry[0]?.resource as Record<string, unknown>;
        fc.pre(JSON.stringify(obs[field]) !== JSON.stringify(value));
        obs[field] = value;
        const r = outcome(b);
        expect([400, 403, 422]).toContain(r);
      }),
      { numRuns: 300 },
    );
  });
});
