/**
 * One MQTT message → one receipt, shared by the embedded broker and the external-broker client:
 * size check → payload decode (drivers/mqtt) → pipeline (resolves after the journal commit) →
 * receipt `{"seq","status","code","message"}`. `ack` says whether the transport may acknowledge the
 * message (PUBACK): true once the outcome is final (stored, collapsed as a duplicate, or refused for
 * good because the payload is wrong), false when nothing was stored and the device must send it again
 * (journal full, gateway stopping).
 */
import type { Logger } from 'pino';
import { decodePayload } from '../../drivers/mqtt/index.ts';
import type { Measurement } from '../../drivers/types.ts';
import { type ErrorCode, isMedgwError } from '../../kernel/errors.ts';
import type { ReadingSink, SubmitResult } from '../contracts.ts';
import { shortId } from '../log.ts';
import { RETRYABLE_CODES } from '../pipeline/pipeline.ts';
import type { PayloadEncoding } from './topics.ts';

/** A reading is small; anything larger is refused before decoding (MEDGW_ERR_PAYLOAD_TOO_LARGE). */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export interface Receipt {
  readonly seq: number | null;
  readonly status: 'accepted' | 'rejected' | 'duplicate';
  /** A catalogue code (docs/errors.md); the receipt's JSON carries it as a string. */
  readonly code: ErrorCode | null;
  readonly message: string | null;
}

/** MQTT payload → Measurement in device units (drivers/mqtt); throws a MedgwError on a bad payload. */
export type PayloadDecoder = (encoding: PayloadEncoding, payload: Uint8Array) => Measurement;

/** The drivers' payload codecs (drivers/mqtt): JSON, CBOR, protobuf → Measurement. */
export const defaultDecoder: PayloadDecoder = (encoding, payload) =>
  decodePayload(encoding, payload).measurement;

export interface IngestContext {
  readonly sink: ReadingSink;
  /** Defaults to the drivers' payload codecs. */
  readonly decode?: PayloadDecoder;
  readonly log: Logger;
}

export interface IngestOutcome {
  readonly receipt: Receipt;
  readonly ack: boolean;
}

/** The `seq` the payload codecs found valid in a payload they refused (drivers/mqtt validateReading). */
function seqOf(e: { readonly details?: Readonly<Record<string, unknown>> | undefined }): number | null {
  const seq = e.details?.seq;
  return typeof seq === 'number' ? seq : null;
}

/** Best-effort `seq` of a payload that could not be decoded, so the device can match the receipt. */
function peekSeq(encoding: PayloadEncoding, payload: Uint8Array): number | null {
  if (encoding !== 'json' || payload.length > MAX_PAYLOAD_BYTES) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
    if (v && typeof v === 'object' && 'seq' in v && Number.isSafeInteger(v.seq)) return v.seq as number;
  } catch {
    // not JSON at all: no seq to echo
  }
  return null;
}

/**
 * Counted and audited by the sink (the pipeline: one summary and one log line per device per window);
 * logged here only when the sink keeps no record, never once per message of a flood through it.
 */
function refused(
  ctx: IngestContext,
  deviceId: string,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown>,
): void {
  if (ctx.sink.recordRejection) ctx.sink.recordRejection({ deviceId, transport: 'mqtt', code, message });
  else ctx.log.warn({ device: shortId(deviceId), code, ...extra }, 'payload refused');
}

export async function ingestMessage(
  ctx: IngestContext,
  deviceId: string,
  encoding: PayloadEncoding,
  payload: Uint8Array,
): Promise<IngestOutcome> {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    const code = 'MEDGW_ERR_PAYLOAD_TOO_LARGE';
    const message = `the payload has ${payload.length} bytes; a reading is at most ${MAX_PAYLOAD_BYTES}`;
    refused(ctx, deviceId, code, message, { bytes: payload.length });
    return { ack: true, receipt: { seq: null, status: 'rejected', code, message } };
  }
  let measurement: Measurement;
  try {
    measurement = (ctx.decode ?? defaultDecoder)(encoding, payload);
  } catch (e) {
    if (!isMedgwError(e)) throw e;
    refused(ctx, deviceId, e.code, e.message, { encoding });
    return {
      ack: true,
      receipt: {
        seq: seqOf(e) ?? peekSeq(encoding, payload),
        status: 'rejected',
        code: e.code,
        message: e.message,
      },
    };
  }
  const seq = measurement.sequence ?? null;
  const result = await ctx.sink.submit({ deviceId, transport: 'mqtt', measurements: [measurement] });
  const ack = !(
    result.status === 'rejected' &&
    result.code !== undefined &&
    RETRYABLE_CODES.has(result.code)
  );
  return { ack, receipt: { seq, status: result.status, code: result.code ?? null, message: say(result) } };
}

/**
 * The receipt's message. A reading stored with a code was quarantined (implausible value, impossible
 * time, unknown household user): stored, so the device may forget it, but not sent until confirmed.
 */
function say(result: SubmitResult): string | null {
  if (result.status === 'accepted' && result.code !== undefined) {
    const why = result.message ?? result.code;
    return `stored but quarantined: ${why}; it is sent only once confirmed on the gateway's quarantine page`;
  }
  return result.message ?? null;
}

export function encodeReceipt(receipt: Receipt): Buffer {
  return Buffer.from(JSON.stringify(receipt));
}
