/**
 * Messages between the main thread (threaded.ts) and the journal thread (worker.ts). Values cross
 * by structured clone; errors cross as their code, message and details and are rebuilt as
 * MedgwError on arrival (a class does not survive the clone).
 */
import type { MessagePort } from 'node:worker_threads';
import { type ErrorCode, MedgwError } from '../../kernel/errors.ts';
import type { Journal } from '../contracts.ts';
import type { BatchTransition } from './group-commit.ts';
import type { PostgresJournalOptions } from './postgres.ts';
import type { AuditInput, PreparedAppend, PreparedReading } from './prepare.ts';

export type { AuditInput };

import type { SqliteJournalOptions } from './sqlite.ts';

/** Which journal the thread hosts: the SQLite file of one box, or the PostgreSQL shared by instances. */
export type ThreadBackend =
  | { readonly kind: 'sqlite'; readonly options: Omit<SqliteJournalOptions, 'clock' | 'onFull'> }
  | { readonly kind: 'postgres'; readonly options: Omit<PostgresJournalOptions, 'clock'> };

/** What the main thread hands the worker at start. */
export interface WorkerInit {
  readonly backend: ThreadBackend;
  /** One Int32: 0 while a single call is running, then SIGNAL_ANSWERED or SIGNAL_GONE. */
  readonly signal: SharedArrayBuffer;
  readonly syncPort: MessagePort;
}

export const SIGNAL_WAITING = 0;
export const SIGNAL_ANSWERED = 1;
export const SIGNAL_GONE = 2;

/**
 * Journal operations callable one at a time, with the main thread waiting for the answer (close
 * travels with the batches, behind them).
 */
export type SyncMethod =
  | Exclude<keyof Journal, 'dueAsync' | 'close' | 'claim' | 'watch' | 'auditChains'>
  | 'auditVerifyChains';

/** What travels on the parent port, answered there in order (close: on the sync port, once closed). */
export type BatchOp =
  | { readonly op: 'append'; readonly packed: (string | number | null)[] }
  | { readonly op: 'transition'; readonly moves: readonly BatchTransition[] }
  | { readonly op: 'due'; readonly limit: number }
  | { readonly op: 'audit'; readonly entries: readonly AuditInput[] }
  /** Claims with leases (PostgreSQL only): answered with one ClaimedReading[]. */
  | { readonly op: 'claim'; readonly limit: number; readonly leaseMs: number }
  | { readonly op: 'close' };

export type BatchRequest = BatchOp & { readonly id: number; readonly now: number };

export interface SyncRequest {
  readonly method: SyncMethod;
  readonly args: unknown[];
  readonly now: number;
}

/** A refusal sent between the journal thread and the main thread (both this build: catalogue codes). */
export interface SerializedError {
  readonly code?: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type SyncReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

/** One result of a batch: the item's value, or its own coded refusal. */
export type SerializedResult =
  | { readonly value: unknown }
  | { readonly error: SerializedError & { readonly code: ErrorCode } };

export type BatchReply =
  | { readonly type: 'batch'; readonly id: number; readonly results: SerializedResult[] }
  | { readonly type: 'batch'; readonly id: number; readonly error: SerializedError };

export type ThreadEvent =
  | { readonly type: 'opened'; readonly error?: SerializedError; readonly owner?: string }
  /** Another commit (of any instance) stored readings: a hint to look for due readings. */
  | { readonly type: 'notified' };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof MedgwError) {
    return { code: e.code, message: e.message, ...(e.details ? { details: { ...e.details } } : {}) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/** A MedgwError again; an uncoded fault stays a plain Error (a defect, not a refusal). */
export function deserializeError(e: SerializedError): Error {
  if (e.code !== undefined) return new MedgwError(e.code, e.message, e.details);
  return new Error(e.message);
}

export function serializeResults(results: readonly unknown[]): SerializedResult[] {
  return results.map((r) =>
    r instanceof MedgwError ? { error: { ...serializeError(r), code: r.code } } : { value: r },
  );
}

export function deserializeResults<T>(results: readonly SerializedResult[]): (T | MedgwError)[] {
  return results.map((r) =>
    'error' in r ? new MedgwError(r.error.code, r.error.message, r.error.details) : (r.value as T),
  );
}

/** Fields of a prepared reading, in the order they are packed. */
const READING_FIELDS = 9;

/**
 * A group of prepared appends as one flat array of strings, numbers and nulls: structured clone
 * copies such an array several times faster than the same data as objects.
 */
export function packAppends(items: readonly PreparedAppend[]): (string | number | null)[] {
  const out: (string | number | null)[] = [];
  for (const item of items) {
    out.push(item.readings.length, item.cursor?.deviceId ?? null, item.cursor?.value ?? null);
    for (const r of item.readings) {
      out.push(
        r.id,
        r.deviceId,
        r.patientId,
        r.kind,
        r.state,
        r.json,
        r.bytes,
        r.reasonCode,
        r.reasonMessage,
      );
    }
  }
  return out;
}

export function unpackAppends(packed: readonly (string | number | null)[]): PreparedAppend[] {
  const items: PreparedAppend[] = [];
  let i = 0;
  while (i < packed.length) {
    const count = packed[i] as number;
    const cursorDevice = packed[i + 1] as string | null;
    const cursorValue = packed[i + 2] as number | null;
    i += 3;
    const readings: PreparedReading[] = [];
    for (let k = 0; k < count; k++, i += READING_FIELDS) {
      readings.push({
        id: packed[i] as string,
        deviceId: packed[i + 1] as string,
        patientId: packed[i + 2] as string | null,
        kind: packed[i + 3] as string,
        state: packed[i + 4] as PreparedReading['state'],
        json: packed[i + 5] as string,
        bytes: packed[i + 6] as number,
        reasonCode: packed[i + 7] as string | null,
        reasonMessage: packed[i + 8] as string | null,
      });
    }
    items.push(
      cursorDevice !== null && cursorValue !== null
        ? { readings, cursor: { deviceId: cursorDevice, value: cursorValue } }
        : { readings },
    );
  }
  return items;
}
