/**
 * Encoders of the documented MQTT reading schema (docs/mqtt-payloads.md), written from the schema and
 * independent of the gateway's decoders (drivers/mqtt): JSON text, the same map in CBOR (RFC 8949, via
 * cbor-x), and a medgw.v1.Reading message built by reflection from drivers/mqtt/reading.proto.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encode as cborEncode } from 'cbor-x';
import protobuf from 'protobufjs';

export type SimEncoding = 'json' | 'cbor' | 'protobuf';

export interface SimQuantity {
  readonly value: number;
  readonly unit: string;
}

/** One reading as the schema describes it (the JSON form; CBOR and protobuf carry the same fields). */
export interface SimReading {
  readonly kind: 'glucose' | 'body-weight' | 'blood-pressure' | 'body-temperature' | 'spo2';
  /** ISO-8601 with a zone: `2026-11-22T08:15:00+01:00`. */
  readonly time: string;
  readonly seq: number;
  readonly values: Readonly<Record<string, SimQuantity>>;
  readonly meal?: string;
}

const PROTO_PATH = fileURLToPath(new URL('../../drivers/mqtt/reading.proto', import.meta.url));
let readingType: protobuf.Type | undefined;

function protoReading(): protobuf.Type {
  if (!readingType) {
    const root = protobuf.parse(readFileSync(PROTO_PATH, 'utf8'), { keepCase: true }).root;
    readingType = root.lookupType('medgw.v1.Reading');
  }
  return readingType;
}

/** Builds the protobuf message object from the reading, field by field as the .proto names them. */
function toProtoObject(type: protobuf.Type, r: SimReading): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(type.fields)) {
    const key = name;
    if (key === 'kind') {
      const resolved = field.resolve();
      obj[key] =
        resolved.resolvedType instanceof protobuf.Enum ? enumValue(resolved.resolvedType, r.kind) : r.kind;
    } else if (key === 'time') obj[key] = r.time;
    else if (key === 'seq') obj[key] = r.seq;
    else if (key === 'meal' && r.meal !== undefined) {
      const resolved = field.resolve();
      obj[key] =
        resolved.resolvedType instanceof protobuf.Enum ? enumValue(resolved.resolvedType, r.meal) : r.meal;
    } else if (key === 'values') {
      if (field.map) obj[key] = { ...r.values };
      else obj[key] = Object.entries(r.values).map(([n, q]) => ({ name: n, ...q }));
    }
  }
  return obj;
}

/** Enum value for a kebab-case name: `blood-pressure` → BLOOD_PRESSURE or KIND_BLOOD_PRESSURE. */
function enumValue(e: protobuf.Enum, name: string): number {
  const upper = name.toUpperCase().replace(/-/g, '_');
  const hit = Object.entries(e.values).find(([k]) => k === upper || k.endsWith(`_${upper}`));
  if (!hit) throw new Error(`the .proto enum ${e.name} has no value for ${name}`);
  return hit[1];
}

export function encodeReading(encoding: SimEncoding, r: SimReading): Buffer {
  switch (encoding) {
    case 'json':
      return Buffer.from(JSON.stringify(r));
    case 'cbor':
      return Buffer.from(cborEncode({ ...r }));
    case 'protobuf': {
      const type = protoReading();
      return Buffer.from(type.encode(type.fromObject(toProtoObject(type, r))).finish());
    }
  }
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** ISO-8601 local time in Paris winter time (+01:00) for an instant: what a simple device would send. */
export function isoWithZone(ms: number, offsetMinutes = 60): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`;
}

/** A plausible reading of each kind, varied by `seq`, timed at `ms`. */
export function sampleReading(kind: SimReading['kind'], seq: number, ms: number): SimReading {
  const time = isoWithZone(ms);
  switch (kind) {
    case 'blood-pressure':
      return {
        kind,
        time,
        seq,
        values: {
          systolic: { value: 110 + (seq % 30), unit: 'mm[Hg]' },
          diastolic: { value: 70 + (seq % 15), unit: 'mm[Hg]' },
          pulse: { value: 60 + (seq % 20), unit: '/min' },
        },
      };
    case 'glucose':
      return {
        kind,
        time,
        seq,
        values: { glucose: { value: 90 + (seq % 60), unit: 'mg/dL' } },
        meal: 'fasting',
      };
    case 'body-weight':
      return { kind, time, seq, values: { weight: { value: 60 + (seq % 40) / 2, unit: 'kg' } } };
    case 'body-temperature':
      return { kind, time, seq, values: { temperature: { value: 36.5 + (seq % 10) / 10, unit: 'Cel' } } };
    case 'spo2':
      return {
        kind,
        time,
        seq,
        values: {
          spo2: { value: 94 + (seq % 6), unit: '%' },
          pulse: { value: 62 + (seq % 20), unit: '/min' },
        },
      };
  }
}
