/**
 * The rows of the SQL journals (SQLite: sqlite.ts, PostgreSQL: postgres.ts) and their mapping to the
 * journal's records: both store the outbox and the audit log under the same column names, so a row is
 * read back into an OutboxRecord or an AuditEntry in one place.
 */
import type { Observation } from '../../drivers/types.ts';
import type { AuditEntry, OutboxRecord, OutboxState } from '../contracts.ts';

/** One outbox row as both journals store it (PostgreSQL adds its claim columns). */
export interface OutboxRow {
  row: number;
  id: string;
  device_id: string;
  patient_id: string | null;
  kind: string;
  state: string;
  /** The Observation as JSON; null once purged (delivered, or purged on request). */
  observation: string | null;
  /** Bytes of `observation`, counted against the journal's limits. */
  bytes: number;
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  reason_code: string | null;
  reason_message: string | null;
  remote_id: string | null;
}

/** One audit entry as read back (the reading named by its id, however the row references it). */
export interface AuditRow {
  seq: number;
  at: number;
  event: string;
  reading_id: string | null;
  device_id: string | null;
  patient_id: string | null;
  kind: string | null;
  /** The detail as hashed: JSON with its keys in canonical order. */
  detail: string | null;
  hash: string;
}

export function toRecord(r: OutboxRow): OutboxRecord {
  return {
    id: r.id,
    deviceId: r.device_id,
    ...(r.patient_id !== null ? { patientId: r.patient_id } : {}),
    kind: r.kind as Observation['kind'],
    state: r.state as OutboxState,
    observation: r.observation === null ? null : (JSON.parse(r.observation) as Observation),
    attempts: r.attempts,
    ...(r.next_attempt_at !== null ? { nextAttemptAt: r.next_attempt_at } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.reason_code !== null ? { reason: { code: r.reason_code, message: r.reason_message ?? '' } } : {}),
    ...(r.remote_id !== null ? { remoteId: r.remote_id } : {}),
  };
}

export function toAudit(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    event: r.event,
    ...(r.reading_id !== null ? { readingId: r.reading_id } : {}),
    ...(r.device_id !== null ? { deviceId: r.device_id } : {}),
    ...(r.patient_id !== null ? { patientId: r.patient_id } : {}),
    ...(r.kind !== null ? { kind: r.kind } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as AuditEntry['detail'] } : {}),
    hash: r.hash,
  };
}
