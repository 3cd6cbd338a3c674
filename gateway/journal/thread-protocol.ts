/**
 * Messages between the main thread (threaded.ts) and the journal thread (worker.ts). Values cross
 * by structured clone; errors cross as their code, message and details and are rebuilt as
 * MedgwError on arrival (a class does not survive the clone).
 */
import type { MessagePort } from 'node:worker_threads';
import { type ErrorCode, MedgwError } from '../../drivers/errors.ts';
import type { Journal } from '../contracts.ts';
import type { SqliteJournalOptions } from './sqlite.ts';

/** What the main thread hands the worker at start. */
export interface WorkerInit {
  readonly options: Omit<SqliteJournalOptions, 'clock' | 'onFull'>;
  /** One Int32: 0 while a single call is running, then SIGNAL_ANSWERED or SIGNAL_GONE. */
  readonly signal: SharedArrayBuffer;
  readonly syncPort: MessagePort;
}

export const SIGNAL_WAITING = 0;
export const SIGNAL_ANSWERED = 1;
export const SIGNAL_GONE = 2;

/** Journal operations callable one at a time, with the main thread waiting for the answer. */
export type SyncMethod = Exclude<keyof Journal, 'dueAsync'>;

export interface SyncRequest {
  readonly method: SyncMethod;
  readonly args: unknown[];
  readonly now: number;
}

export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type SyncReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

/** One result of a batch: the item's value, or its own refusal. */
export type SerializedResult = { readonly value: unknown } | { readonly error: SerializedError };

export type BatchReply =
  | { readonly type: 'batch'; readonly id: number; readonly results: SerializedResult[] }
  | { readonly type: 'batch'; readonly id: number; readonly error: SerializedError };

export type ThreadEvent = { readonly type: 'opened'; readonly error?: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof MedgwError) {
    return { code: e.code, message: e.message, ...(e.details ? { details: { ...e.details } } : {}) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/** A MedgwError again; an uncoded fault stays a plain Error (a defect, not a refusal). */
export function deserializeError(e: SerializedError): Error {
  if (e.code !== undefined) return new MedgwError(e.code as ErrorCode, e.message, e.details);
  return new Error(e.message);
}

export function serializeResults(results: readonly unknown[]): SerializedResult[] {
  return results.map((r) => (r instanceof MedgwError ? { error: serializeError(r) } : { value: r }));
}

export function deserializeResults<T>(results: readonly SerializedResult[]): (T | MedgwError)[] {
  return results.map((r) => {
    if ('error' in r) {
      const e = deserializeError(r.error);
      // a batch result is either a value or a coded refusal (threaded.ts rejects otherwise)
      return e instanceof MedgwError
        ? e
        : new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `journal thread fault: ${e.message}`);
    }
    return r.value as T;
  });
}
