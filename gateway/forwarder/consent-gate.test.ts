/**
 * The consent gate and the hold rules, on their own: which link state refuses which kind with which
 * code, when a hold is lifted, and which hold a code means from a copy of the catalogue.
 */
import { describe, expect, it } from 'vitest';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { type Catalogue, ERROR_CATALOGUE } from '../../kernel/errors.ts';
import type { OutboxRecord } from '../contracts.ts';
import { ConsentGate } from './consent-gate.ts';
import { holdOf } from './holds.ts';

function link(patch: Partial<PatientLink> = {}): PatientLink {
  return {
    patientId: 'p1',
    idPe: '1234',
    pairingOid: '1.2.250.1',
    solutionOid: '1.2.250.2',
    accessToken: 'a',
    idToken: 'i',
    expiresAt: 0,
    linkedAt: 1_000,
    status: 'linked',
    ...patch,
  };
}

function gateOver(l: PatientLink | undefined): ConsentGate {
  return new ConsentGate({
    get: (id) => (l && id === l.patientId ? l : undefined),
    update: () => Promise.reject(new Error('not used')),
  });
}

function held(code: string, updatedAt: number, kind: OutboxRecord['kind'] = 'body-weight'): OutboxRecord {
  return {
    id: 'r1',
    deviceId: 'd1',
    patientId: 'p1',
    kind,
    state: 'held',
    observation: null,
    attempts: 1,
    createdAt: 0,
    updatedAt,
    reason: { code, message: '' },
  };
}

describe('consent gate', () => {
  it('refuses a reading of no patient, of an unlinked patient, and of a revoked link, each with its code', () => {
    expect(gateOver(link()).refusal(undefined, 'body-weight')?.code).toBe('MEDGW_ERR_NOT_LINKED');
    expect(gateOver(undefined).refusal('p1', 'body-weight')?.code).toBe('MEDGW_ERR_NOT_LINKED');
    expect(gateOver(link({ status: 'reauth-required' })).refusal('p1', 'body-weight')?.code).toBe(
      'MEDGW_ERR_REAUTH_REQUIRED',
    );
    expect(gateOver(link({ status: 'consent-withdrawn' })).refusal('p1', 'body-weight')?.code).toBe(
      'MEDGW_ERR_MES_CONSENT',
    );
    expect(gateOver(link()).refusal('p1', 'body-weight')).toBeUndefined();
  });

  it("the patient's local choice of kinds wins over the kinds granted at pairing", () => {
    const granted = link({ grantedKinds: ['weight', 'blood-pressure'] });
    expect(gateOver(granted).refusal('p1', 'body-weight')).toBeUndefined();
    const chosen = link({ grantedKinds: ['weight', 'blood-pressure'], kinds: ['blood-pressure'] });
    expect(gateOver(chosen).refusal('p1', 'body-weight')).toMatchObject({
      code: 'MEDGW_ERR_CONSENT_LOCAL',
      message: expect.stringContaining('weight'),
    });
    expect(gateOver(chosen).refusal('p1', 'blood-pressure')).toBeUndefined();
  });

  it('lifts a local hold once the gate passes, a national refusal only after a link made after it', () => {
    const gate = gateOver(link({ linkedAt: 1_000 }));
    expect(gate.lifts(held('MEDGW_ERR_CONSENT_LOCAL', 5_000))).toBe(true);
    expect(gate.lifts(held('MEDGW_ERR_NOT_LINKED', 5_000))).toBe(true);
    // the patient has not linked again since the national side refused
    expect(gate.lifts(held('MEDGW_ERR_MES_CONSENT', 5_000))).toBe(false);
    expect(gate.lifts(held('MEDGW_ERR_MES_CONSENT', 500))).toBe(true);
    // a gate that still refuses lifts nothing
    const revoked = gateOver(link({ status: 'consent-withdrawn', linkedAt: 9_000 }));
    expect(revoked.lifts(held('MEDGW_ERR_MES_CONSENT', 500))).toBe(false);
  });
});

describe('holds from the catalogue', () => {
  it("reads the hold from the entry's outcome, so a copy of the catalogue changes the rule", () => {
    expect(holdOf('MEDGW_ERR_MES_CONSENT', ERROR_CATALOGUE)).toBe('hold-patient');
    expect(holdOf('MEDGW_ERR_CONSENT_LOCAL', ERROR_CATALOGUE)).toBe('hold-reading');
    expect(holdOf('MEDGW_ERR_MES_UNAVAILABLE', ERROR_CATALOGUE)).toBeUndefined();
    expect(holdOf('MEDGW_ERR_MES_REJECTED', ERROR_CATALOGUE)).toBeUndefined();
    expect(holdOf('NOT_A_CATALOGUE_CODE', ERROR_CATALOGUE)).toBeUndefined();
    const copy: Catalogue = {
      ...ERROR_CATALOGUE,
      MEDGW_ERR_MES_CONSENT: { ...ERROR_CATALOGUE.MEDGW_ERR_MES_CONSENT, outcome: 'hold-reading' },
    };
    expect(holdOf('MEDGW_ERR_MES_CONSENT', copy)).toBe('hold-reading');
  });
});
