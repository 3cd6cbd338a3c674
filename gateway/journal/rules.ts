/**
 * Rules every journal implementation shares: the outbox state machine, input checks, the audit hash
 * chain and the size limits. SQLite (sqlite.ts) and memory (memory.ts) both apply exactly these, and
 * tests/journal/conformance.ts runs one suite against both.
 */
import { hash } from 'node:crypto';
import { MedgwError } from '../../kernel/errors.ts';
import type { AuditEntry, NewReading, OutboxState } from '../contracts.ts';

export const OUTBOX_STATES: readonly OutboxState[] = [
  'pending',
  'quarantined',
  'held',
  'in-flight',
  'delivered',
  'dead-letter',
  'local',
];

/** Legal moves of the outbox. `delivered` is terminal: its values are gone. */
export const TRANSITIONS: Readonly<Record<OutboxState, readonly OutboxState[]>> = {
  pending: ['in-flight', 'held', 'quarantined', 'dead-letter'],
  'in-flight': ['delivered', 'pending', 'held', 'dead-letter'],
  quarantined: ['pending', 'held', 'dead-letter'],
  held: ['pending', 'dead-letter'],
  'dead-letter': ['pending'],
  delivered: [],
  // Kept on the gateway on purpose, never forwarded: no move, only deletion once it has served (purgeLocal).
  local: [],
};

export function isOutboxState(s: string): s is OutboxState {
  return (OUTBOX_STATES as readonly string[]).includes(s);
}

/** Throws MEDGW_ERR_JOURNAL_STATE unless the record is in `from` and `from → to` is legal. */
export function checkTransition(id: string, actual: OutboxState, from: OutboxState, to: OutboxState): void {
  if (actual !== from) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_STATE',
      `reading ${id} is ${actual}, not ${from}; it cannot move from ${from} to ${to}`,
      { id, actual, from, to },
    );
  }
  if (!TRANSITIONS[from].includes(to)) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_STATE',
      `reading ${id} cannot move from ${from} to ${to}; from ${from} it may go to ${TRANSITIONS[from].join(', ') || 'nowhere (terminal)'}`,
      { id, from, to },
    );
  }
}

export function unknownReading(id: string): MedgwError {
  return new MedgwError('MEDGW_ERR_JOURNAL_UNKNOWN_READING', `no reading ${id} in the journal`, { id });
}

const NEW_STATES = new Set(['pending', 'quarantined', 'held', 'local']);

export function checkNewReading(r: NewReading): void {
  if (typeof r.id !== 'string' || r.id.length === 0 || r.id.length > 512) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_INVALID',
      'reading.id must be a non-empty string of at most 512 characters',
    );
  }
  if (typeof r.deviceId !== 'string' || r.deviceId.length === 0) {
    throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `reading ${r.id}: deviceId must be a non-empty string`);
  }
  if (!NEW_STATES.has(r.state)) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_INVALID',
      `reading ${r.id}: a new reading is pending, quarantined, held or local, not ${String(r.state)}`,
    );
  }
  if (r.state !== 'pending' && !r.reason) {
    throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `reading ${r.id}: a ${r.state} reading needs a reason`);
  }
  if (!r.observation || typeof r.observation.kind !== 'string') {
    throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `reading ${r.id}: observation.kind is missing`);
  }
}

/** Detail keys an audit entry may never carry: the audit log outlives the values on purpose. */
const FORBIDDEN_DETAIL = /^(value|values|observation|components|original|mantissa|secret|token|password)$/i;

export function checkAuditEntry(entry: { event: string; detail?: Readonly<Record<string, unknown>> }): void {
  if (typeof entry.event !== 'string' || !/^[a-z][a-z0-9.-]{0,63}$/.test(entry.event)) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_INVALID',
      `audit event "${String(entry.event)}" must be lower-case words joined by dots or dashes (reading.delivered)`,
    );
  }
  for (const [key, v] of Object.entries(entry.detail ?? {})) {
    if (FORBIDDEN_DETAIL.test(key)) {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_INVALID',
        `audit detail "${key}" is refused: the audit log never holds measured values or secrets`,
      );
    }
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_INVALID',
        `audit detail "${key}" must be a string, number, boolean or null`,
      );
    }
  }
}

export const GENESIS_HASH = '0'.repeat(64);

/** An audit detail as canonical JSON: keys in code-unit order; `null` when there is none. */
export function canonicalDetail(detail: AuditEntry['detail']): string {
  if (!detail) return 'null';
  const keys = Object.keys(detail);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      return JSON.stringify(Object.fromEntries(keys.sort().map((k) => [k, detail[k]])));
    }
  }
  return JSON.stringify(detail);
}

const text = (v: string | undefined): string => (v === undefined || v === null ? 'null' : JSON.stringify(v));

/**
 * The chained hash: SHA-256 over the previous hash, a newline and the entry as the JSON array
 * [seq, at, event, readingId, deviceId, patientId, kind, detail] (absent fields null, detail keys
 * sorted: canonicalDetail). `detailJson` is that canonical detail when the caller has it already.
 */
export function auditHash(
  prev: string,
  e: Omit<AuditEntry, 'hash'>,
  detailJson: string = canonicalDetail(e.detail),
): string {
  const canonical = `[${JSON.stringify(e.seq)},${JSON.stringify(e.at)},${JSON.stringify(e.event)},${text(e.readingId)},${text(e.deviceId)},${text(e.patientId)},${text(e.kind)},${detailJson}]`;
  return hash('sha256', `${prev}\n${canonical}`, 'hex');
}

/**
 * Returns the seq of the first entry whose hash does not chain, or undefined when the chain holds.
 * `from` continues a chain checked page by page (the last hash and the next seq).
 */
export function verifyChain(
  entries: Iterable<AuditEntry>,
  from: { readonly prev: string; readonly seq: number } = { prev: GENESIS_HASH, seq: 1 },
): number | undefined {
  let prev = from.prev;
  let expectedSeq = from.seq;
  for (const e of entries) {
    if (e.seq !== expectedSeq || auditHash(prev, e) !== e.hash) return e.seq;
    prev = e.hash;
    expectedSeq++;
  }
  return undefined;
}

export interface JournalLimits {
  /** Readings that still hold values (everything but delivered or purged); undefined = no limit. */
  readonly maxReadings?: number | undefined;
  /** Bytes of observation data held; undefined = no limit. */
  readonly maxBytes?: number | undefined;
  /**
   * Audit rows (all of them, the log is append-only) beyond which the summaries the gateway writes on
   * its own (refused inputs, auditBatch) are refused; undefined = no limit.
   */
  readonly maxAuditEntries?: number | undefined;
}

/** Refuses one more summary row once the audit log holds maxAuditEntries rows (nothing is evicted). */
export function checkAuditRoom(limits: JournalLimits, entries: number): void {
  if (limits.maxAuditEntries !== undefined && entries + 1 > limits.maxAuditEntries) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_FULL',
      `the audit log holds ${entries} entries; journal.maxAuditEntries=${limits.maxAuditEntries}: this summary of refused inputs was not written (the counters still have it)`,
      { limit: 'maxAuditEntries' },
    );
  }
}

export function checkLimits(
  limits: JournalLimits,
  held: { readings: number; bytes: number },
  adding: { readings: number; bytes: number },
): void {
  if (adding.readings === 0) return;
  if (limits.maxReadings !== undefined && held.readings + adding.readings > limits.maxReadings) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_FULL',
      `journal holds ${held.readings} unsent readings; ${adding.readings} more exceed journal.maxReadings=${limits.maxReadings}; nothing was stored and nothing evicted`,
      { limit: 'maxReadings' },
    );
  }
  if (limits.maxBytes !== undefined && held.bytes + adding.bytes > limits.maxBytes) {
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_FULL',
      `journal holds ${held.bytes} bytes of readings; ${adding.bytes} more exceed journal.maxBytes=${limits.maxBytes}; nothing was stored and nothing evicted`,
      { limit: 'maxBytes' },
    );
  }
}

/** Which transitions are written to the audit log (retry bookkeeping between pending and in-flight is not). */
export function auditedTransition(from: OutboxState, to: OutboxState): boolean {
  if (to === 'in-flight') return false;
  if (from === 'in-flight' && to === 'pending') return false;
  return true;
}

/** Extra figures the journals report besides the contract's stats. */
export interface JournalStats {
  readonly byState: Readonly<Record<OutboxState, number>>;
  readonly oldestUnsentAgeMs: number | null;
  /** Readings that still hold values and the bytes they take, against the configured limits. */
  readonly held: { readonly readings: number; readonly bytes: number };
  readonly limits: JournalLimits;
  /** Appends refused because the journal was full, since it was opened. */
  readonly refusedFull: number;
  readonly auditEntries: number;
}

/** Readings still to send or to decide on; `local` ones are never sent, so they are not "unsent". */
export const UNSENT_STATES: readonly OutboxState[] = ['pending', 'in-flight', 'held', 'quarantined'];

/** The audit entry of a purgeLocal batch, checked like any other (no values). */
export type LocalPurgeAudit = {
  readonly event: string;
  readonly deviceId?: string;
  readonly patientId?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
};

/** The detail every journal writes for a purgeLocal batch: the caller's, with the count deleted. */
export function localPurgeDetail(
  audit: LocalPurgeAudit,
  deleted: number,
): Readonly<Record<string, string | number | boolean | null>> {
  return { ...audit.detail, deleted };
}
