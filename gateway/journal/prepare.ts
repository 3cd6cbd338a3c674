/**
 * Readings checked and serialized before they reach a journal (on the caller's thread for a journal
 * on its own thread): what every journal implementation stores, checked by the rules of rules.ts.
 */
import { MedgwError } from '../../kernel/errors.ts';
import type { AuditEntry, NewReading } from '../contracts.ts';
import type { BatchAppend } from './group-commit.ts';
import { checkNewReading } from './rules.ts';

/** An audit entry as a caller gives it (seq, hash and, by default, time are the journal's). */
export type AuditInput = Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number };

/** A reading checked and serialized for the insert: what crosses to the journal thread. */
export interface PreparedReading {
  readonly id: string;
  readonly deviceId: string;
  readonly patientId: string | null;
  readonly kind: string;
  readonly state: NewReading['state'];
  /** The observation as stored (JSON), and its size in bytes against the journal limits. */
  readonly json: string;
  readonly bytes: number;
  readonly reasonCode: string | null;
  readonly reasonMessage: string | null;
}

export interface PreparedAppend {
  readonly readings: readonly PreparedReading[];
  readonly cursor?: { readonly deviceId: string; readonly value: number } | undefined;
}

/**
 * Checks every reading and cursor of a group (MEDGW_ERR_JOURNAL_INVALID refuses the whole group
 * before anything is written; the group commit then retries its items one by one) and serializes
 * the observations.
 */
export function prepareAppends(items: readonly BatchAppend[]): PreparedAppend[] {
  return items.map((item) => {
    const readings = item.readings.map((r): PreparedReading => {
      checkNewReading(r);
      const json = JSON.stringify(r.observation);
      return {
        id: r.id,
        deviceId: r.deviceId,
        patientId: r.patientId ?? null,
        kind: r.observation.kind,
        state: r.state,
        json,
        bytes: Buffer.byteLength(json),
        reasonCode: r.reason?.code ?? null,
        reasonMessage: r.reason?.message ?? null,
      };
    });
    if (item.cursor && !Number.isSafeInteger(item.cursor.value)) {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_INVALID',
        `cursor of ${item.cursor.deviceId} must be an integer`,
      );
    }
    return item.cursor ? { readings, cursor: item.cursor } : { readings };
  });
}
