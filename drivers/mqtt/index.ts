/**
 * MQTT payload codecs: one reading schema (schema.ts) in three encodings — JSON, CBOR (cbor-x, the same
 * map) and protobuf (reading.proto, generated static code). Each payload becomes a Measurement (source
 * `mqtt`) or a MedgwError naming the field that is wrong. Pure: bytes in, typed result out.
 */
import { decode as cborDecode, encode as cborEncode } from 'cbor-x';
import { MedgwError } from '../../kernel/errors.ts';
import { decimalFromNumber } from '../normalize/units.ts';
import type { ComponentName, DeviceDateTime, Measurement, MeasurementComponent } from '../types.ts';
import { medgw } from './generated/reading.js';
import { ISO_TIME, type Reading, ReadingSchema, SeqSchema } from './schema.ts';

export { type Reading, ReadingSchema } from './schema.ts';

export type PayloadEncoding = 'json' | 'cbor' | 'protobuf';
export const PAYLOAD_ENCODINGS: readonly PayloadEncoding[] = ['json', 'cbor', 'protobuf'];

/** A reading is a few hundred bytes; anything above 16 KiB is refused before parsing. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

const CODE = {
  json: 'MEDGW_ERR_PAYLOAD_JSON',
  cbor: 'MEDGW_ERR_PAYLOAD_CBOR',
  protobuf: 'MEDGW_ERR_PAYLOAD_PROTOBUF',
} as const;

/**
 * Validates a decoded value against the schema; the error names the first wrong field, and an extra
 * field by its full path (`unknown field "values.glucose.foo"`): a typo must be visible to the sender.
 */
export function validateReading(value: unknown, encoding: PayloadEncoding): Reading {
  const result = ReadingSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // The record number, when it is itself valid, so the sender can match the refusal to its reading.
  const seq = SeqSchema.safeParse((value as { seq?: unknown } | null)?.seq);
  const known = seq.success ? { seq: seq.data } : {};
  if (issue?.code === 'unrecognized_keys') {
    const fields = issue.keys.map((k) => [...issue.path, k].join('.'));
    const list = fields.map((f) => `"${f}"`).join(', ');
    throw new MedgwError(
      CODE[encoding],
      `${encoding} payload: unknown field${fields.length > 1 ? 's' : ''} ${list}`,
      { field: fields[0], ...known },
    );
  }
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(payload)';
  throw new MedgwError(
    CODE[encoding],
    `${encoding} payload: field "${field}": ${issue?.message ?? 'invalid'}`,
    { field, ...known },
  );
}

function checkSize(bytes: Uint8Array, encoding: PayloadEncoding): void {
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new MedgwError(
      'MEDGW_ERR_PAYLOAD_TOO_LARGE',
      `${encoding} payload of ${bytes.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`,
      { size: bytes.length },
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses and validates a payload of the given encoding. */
export function parsePayload(encoding: PayloadEncoding, bytes: Uint8Array): Reading {
  checkSize(bytes, encoding);
  let value: unknown;
  try {
    if (encoding === 'json') value = JSON.parse(utf8.decode(bytes));
    else if (encoding === 'cbor') value = cborDecode(bytes);
    else {
      const message = medgw.v1.Reading.decode(bytes);
      value = medgw.v1.Reading.toObject(message, { defaults: true });
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new MedgwError(CODE[encoding], `${encoding} payload cannot be decoded: ${why}`);
  }
  if (encoding === 'protobuf') value = fromProtobufObject(value as Record<string, unknown>);
  return validateReading(value, encoding);
}

/**
 * protobuf has no "absent" for plain scalars and no empty-vs-missing for strings: an unset `kind` or
 * `time` arrives as "" and is refused by the schema; `seq`, `meal` and `decimals` are proto3 optional
 * fields and are present only when sent.
 */
function fromProtobufObject(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  if (out.values && Object.keys(out.values as object).length === 0) delete out.values;
  return out;
}

/**
 * The time fields of an ISO-8601 date-time with offset (already validated by the schema): the fraction
 * of a second as written and the UTC offset the device stated are kept with the reading.
 */
function parseIsoTime(text: string): { deviceTime: DeviceDateTime; offsetMinutes: number } {
  const m = ISO_TIME.exec(text)!;
  const zone = m[8] ?? 'Z';
  const offsetMinutes =
    zone === 'Z'
      ? 0
      : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return {
    deviceTime: {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hours: Number(m[4]),
      minutes: Number(m[5]),
      seconds: m[6] === undefined ? 0 : Number(m[6]),
      ...(m[7] !== undefined ? { fraction: m[7] } : {}),
    },
    offsetMinutes,
  };
}

type Quantity = { value: number; unit: string; decimals?: number };

/** A validated reading → the Measurement normalization takes (device units, the device's own time). */
export function readingToMeasurement(r: Reading): Measurement {
  const { deviceTime, offsetMinutes } = parseIsoTime(r.time);
  const components: MeasurementComponent[] = [];
  const values = r.values as Readonly<Record<string, Quantity | undefined>>;
  for (const name of Object.keys(values)) {
    const q = values[name];
    if (!q) continue;
    components.push({
      name: name as ComponentName,
      value: decimalFromNumber(q.value, q.decimals),
      unit: q.unit,
    });
  }
  return {
    kind: r.kind,
    source: 'mqtt',
    ...(r.seq !== undefined ? { sequence: r.seq } : {}),
    deviceTime,
    deviceUtcOffsetMinutes: offsetMinutes,
    components,
    ...(r.kind === 'glucose' && r.meal ? { context: { meal: r.meal } } : {}),
    final: true,
  };
}

/** Parses, validates and converts one MQTT payload. */
export function decodePayload(
  encoding: PayloadEncoding,
  bytes: Uint8Array,
): { reading: Reading; measurement: Measurement } {
  const reading = parsePayload(encoding, bytes);
  return { reading, measurement: readingToMeasurement(reading) };
}

/** Encodes a reading (for device simulators, tests and benchmarks). */
export function encodePayload(encoding: PayloadEncoding, reading: Reading): Uint8Array {
  if (encoding === 'json') return new TextEncoder().encode(JSON.stringify(reading));
  if (encoding === 'cbor') return cborEncode(reading);
  return medgw.v1.Reading.encode(medgw.v1.Reading.fromObject(reading)).finish();
}
