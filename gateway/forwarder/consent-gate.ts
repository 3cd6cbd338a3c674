/**
 * The consent gate: whether a patient's reading of a kind may leave now. It reads the pairing link
 * only (presence, revocation by the patient or the national side, the kinds the patient chose) and
 * decides, for a reading the forwarder held, whether that hold is lifted.
 */
import { KIND_PROFILES } from '../../cloud-bridge/profiles.ts';
import type { ErrorCode } from '../../kernel/errors.ts';
import type { OutboxRecord } from '../contracts.ts';
import type { LinkSource } from './types.ts';

/** Why a reading may not leave: a catalogue code and a message for the provider. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Holds lifted as soon as the gate passes; any other (a national refusal) needs a link made after it. */
const LOCAL_HOLDS: ReadonlySet<string> = new Set<ErrorCode>([
  'MEDGW_ERR_CONSENT_LOCAL',
  'MEDGW_ERR_NOT_LINKED',
]);

export class ConsentGate {
  constructor(private readonly links: LinkSource) {}

  /** Why a patient's reading of this kind may not leave now, or undefined when it may. */
  refusal(patientId: string | undefined, kind: OutboxRecord['kind']): Refusal | undefined {
    if (!patientId)
      return { code: 'MEDGW_ERR_NOT_LINKED', message: 'the reading is not attributed to a patient' };
    const link = this.links.get(patientId);
    if (!link)
      return { code: 'MEDGW_ERR_NOT_LINKED', message: 'the patient is not linked with Mon espace santé' };
    if (link.status === 'reauth-required') {
      return { code: 'MEDGW_ERR_REAUTH_REQUIRED', message: 'the patient must link again' };
    }
    if (link.status === 'consent-withdrawn') {
      return { code: 'MEDGW_ERR_MES_CONSENT', message: 'the patient withdrew consent on Mon espace santé' };
    }
    const consentKind = KIND_PROFILES[kind]?.consentKind;
    const allowed = link.kinds ?? link.grantedKinds;
    if (consentKind && allowed && !allowed.includes(consentKind)) {
      return {
        code: 'MEDGW_ERR_CONSENT_LOCAL',
        message: `the patient did not choose to send ${consentKind} readings`,
      };
    }
    return undefined;
  }

  /**
   * Whether a reading held with `r.reason` may go back to pending: the gate passes now and, for a
   * national refusal, the patient linked again after the hold (a refusal is lifted only by a new link).
   */
  lifts(r: OutboxRecord): boolean {
    if (this.refusal(r.patientId, r.kind)) return false;
    if (r.reason && LOCAL_HOLDS.has(r.reason.code)) return true;
    const link = r.patientId ? this.links.get(r.patientId) : undefined;
    return link !== undefined && link.linkedAt > r.updatedAt;
  }
}
