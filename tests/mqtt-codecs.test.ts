/**
 * MQTT payload codecs: one schema in JSON, CBOR and protobuf; every payload either becomes a Measurement
 * or a coded error naming the wrong field.
 */
import { encode as cborEncode } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePayload,
  encodePayload,
  MAX_PAYLOAD_BYTES,
  PAYLOAD_ENCODINGS,
  type Reading,
} from '../drivers/mqtt/index.ts';
import { READING_KINDS } from '../drivers/mqtt/schema.ts';
import { normalize } from '../drivers/normalize/index.ts';
import { readingId } from '../drivers/reading-id.ts';
import { isMedgwError } from '../kernel/errors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

// The example of the issue, verbatim.
const EXAMPLE =
  '{"kind":"blood-pressure","time":"2026-11-22T08:15:00+01:00","seq":42,"values":{"systolic":{"value":128,"unit":"mm[Hg]"},"diastolic":{"value":82,"unit":"mm[Hg]"},"pulse":{"value":64,"unit":"/min"}}}';

const READINGS: Reading[] = [
  JSON.parse(EXAMPLE) as Reading,
  {
    kind: 'glucose',
    time: '2026-11-22T07:00:00Z',
    seq: 1,
    meal: 'fasting',
    values: { glucose: { value: 5.3, unit: 'mmol/L' } },
  },
  { kind: 'glucose', time: '2026-11-22T07:00:00+00:00', values: { glucose: { value: 95, unit: 'mg/dL' } } },
  {
    kind: 'body-weight',
    time: '2026-11-22T07:00:00-05:00',
    values: { weight: { value: 150.2, unit: '[lb_av]' } },
  },
  {
    kind: 'body-weight',
    time: '2026-11-22T07:00:00+01:00',
    values: { weight: { value: 72.35, unit: 'kg' } },
  },
  {
    kind: 'body-temperature',
    time: '2026-11-22T07:00:00+01:00',
    values: { temperature: { value: 37, unit: 'Cel', decimals: 2 } },
  },
  {
    kind: 'body-temperature',
    time: '2026-11-22T07:00:00+01:00',
    values: { temperature: { value: 98.6, unit: '[degF]' } },
  },
  {
    kind: 'spo2',
    time: '2026-11-22T07:00:00.250+01:00',
    seq: 9,
    values: { spo2: { value: 97, unit: '%' }, pulse: { value: 61, unit: '/min' } },
  },
  { kind: 'spo2', time: '2026-11-22T07:00:00+01:00', values: { spo2: { value: 99, unit: '%' } } },
];

describe('MQTT reading schema', () => {
  it('covers exactly the kinds of the issue', () => {
    expect([...READING_KINDS].sort()).toEqual([
      'blood-pressure',
      'body-temperature',
      'body-weight',
      'glucose',
      'spo2',
    ]);
  });

  it('accepts the example of the issue as JSON and turns it into a Measurement', () => {
    const { measurement } = decodePayload('json', utf8(EXAMPLE));
    expect(measurement).toEqual({
      kind: 'blood-pressure',
      source: 'mqtt',
      sequence: 42,
      deviceTime: { year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 0 },
      deviceUtcOffsetMinutes: 60,
      components: [
        { name: 'systolic', value: { mantissa: 128, exponent: 0, value: 128 }, unit: 'mm[Hg]' },
        { name: 'diastolic', value: { mantissa: 82, exponent: 0, value: 82 }, unit: 'mm[Hg]' },
        { name: 'pulse', value: { mantissa: 64, exponent: 0, value: 64 }, unit: '/min' },
      ],
      final: true,
    });
    const obs = normalize(measurement);
    expect(obs.map((o) => o.kind)).toEqual(['blood-pressure', 'heart-rate']);
    expect(obs[0]?.time).toEqual({
      device: '2026-11-22T08:15:00',
      utc: '2026-11-22T07:15:00.000Z',
      utcOffsetMinutes: 60,
      quality: 'untrusted',
    });
  });

  it('keeps the fraction of a second and the offset the device stated', () => {
    const payload = (time: string) => utf8(JSON.stringify({ ...JSON.parse(EXAMPLE), time }));
    const { measurement } = decodePayload('json', payload('2026-11-22T08:15:07.123456-03:30'));
    expect(measurement.deviceTime).toEqual({
      year: 2026,
      month: 11,
      day: 22,
      hours: 8,
      minutes: 15,
      seconds: 7,
      fraction: '123456',
    });
    expect(measurement.deviceUtcOffsetMinutes).toBe(-210);
    // 08:15:07.123456 at UTC−03:30 is 11:45:07.123Z (the instant to the millisecond)
    expect(normalize(measurement)[0]?.time).toEqual({
      device: '2026-11-22T08:15:07.123456',
      utc: '2026-11-22T11:45:07.123Z',
      utcOffsetMinutes: -210,
      quality: 'untrusted',
    });
    // The reading id is unchanged by the fraction (ids of readings stored before it was kept stay valid).
    const id = (time: string) =>
      readingId({
        deviceId: 'bp-1',
        kind: 'blood-pressure',
        measurement: decodePayload('json', payload(time)).measurement,
      });
    expect(id('2026-11-22T08:15:00.250+01:00')).toBe(id('2026-11-22T08:15:00+01:00'));
    // No fraction written, none invented.
    expect(decodePayload('json', payload('2026-11-22T08:15Z')).measurement.deviceTime).toEqual({
      year: 2026,
      month: 11,
      day: 22,
      hours: 8,
      minutes: 15,
      seconds: 0,
    });
  });

  for (const encoding of PAYLOAD_ENCODINGS) {
    it(`${encoding}: every kind gives the same Measurement as its JSON form`, () => {
      for (const r of READINGS) {
        const viaJson = decodePayload('json', utf8(JSON.stringify(r)));
        const decoded = decodePayload(encoding, encodePayload(encoding, r));
        expect(decoded.reading).toEqual(r);
        expect(decoded.measurement).toEqual(viaJson.measurement);
      }
    });
  }

  it('keeps meal context, precision and pound units', () => {
    const g = decodePayload('json', utf8(JSON.stringify(READINGS[1]))).measurement;
    expect(g.context).toEqual({ meal: 'fasting' });
    expect(normalize(g)[0]).toMatchObject({
      value: 95,
      unit: 'mg/dL',
      original: { value: 5.3, unit: 'mmol/L' },
    });
    const t = decodePayload('json', utf8(JSON.stringify(READINGS[5]))).measurement;
    expect(t.components[0]?.value).toEqual({ mantissa: 3700, exponent: -2, value: 37 });
    const w = normalize(decodePayload('json', utf8(JSON.stringify(READINGS[3]))).measurement)[0];
    expect(w).toMatchObject({ kind: 'body-weight', value: 68.1, unit: 'kg' });
  });

  it('decodes a protobuf message written by hand from the .proto field numbers', () => {
    // Reading{kind=1:"spo2", time=2:"2026-11-22T07:00:00Z", values=5:{"spo2": Quantity{value=1: 97.0, unit=2:"%"}}}
    const time = '2026-11-22T07:00:00Z';
    const quantity = [0x09, ...new Uint8Array(new Float64Array([97]).buffer), 0x12, 0x01, 0x25];
    const entry = [0x0a, 0x04, ...utf8('spo2'), 0x12, quantity.length, ...quantity];
    const bytes = Uint8Array.from([
      0x0a,
      0x04,
      ...utf8('spo2'),
      0x12,
      time.length,
      ...utf8(time),
      0x2a,
      entry.length,
      ...entry,
    ]);
    const { measurement } = decodePayload('protobuf', bytes);
    expect(measurement.kind).toBe('spo2');
    expect(measurement.components).toEqual([
      { name: 'spo2', value: { mantissa: 97, exponent: 0, value: 97 }, unit: '%' },
    ]);
    expect(measurement.sequence).toBeUndefined();
  });

  it('CBOR carries the same map as JSON (a standard encoder suffices)', () => {
    const r = READINGS[2]!;
    expect(decodePayload('cbor', cborEncode(JSON.parse(JSON.stringify(r)))).reading).toEqual(r);
  });
});

describe('MQTT payload refusals name the field', () => {
  const bad = (encoding: 'json' | 'cbor' | 'protobuf', bytes: Uint8Array) => {
    try {
      decodePayload(encoding, bytes);
    } catch (e) {
      if (isMedgwError(e)) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('JSON: syntax, unknown kind, wrong unit, missing zone, extra field', () => {
    expect(bad('json', utf8('{"kind":'))).toMatchObject({ code: 'MEDGW_ERR_PAYLOAD_JSON' });
    expect(bad('json', utf8('{"kind":"ecg","time":"2026-11-22T08:15:00Z","values":{}}')).message).toContain(
      '"kind"',
    );
    const glucose = (extra: object) =>
      utf8(
        JSON.stringify({
          kind: 'glucose',
          time: '2026-11-22T08:15:00Z',
          values: { glucose: { value: 5, unit: 'mmol/L' } },
          ...extra,
        }),
      );
    expect(bad('json', glucose({ values: { glucose: { value: 5, unit: 'g' } } })).message).toContain(
      '"values.glucose.unit"',
    );
    expect(bad('json', glucose({ time: '2026-11-22T08:15:00' })).message).toContain('"time"');
    expect(bad('json', glucose({ time: '2026-02-30T08:15:00Z' })).message).toContain('"time"');
    expect(bad('json', glucose({ meal: 'brunch' })).message).toContain('"meal"');
    expect(bad('json', glucose({ seq: -1 })).message).toContain('"seq"');
    expect(bad('json', glucose({ patient: 'x' })).message).toBe('json payload: unknown field "patient"');
    expect(bad('json', glucose({ values: { glucose: { value: 5, unit: 'mmol/L', foo: 1 } } })).message).toBe(
      'json payload: unknown field "values.glucose.foo"',
    );
    expect(bad('json', glucose({ patient: 'x', foo: 1 })).message).toBe(
      'json payload: unknown fields "patient", "foo"',
    );
    expect(bad('json', utf8('"text"')).code).toBe('MEDGW_ERR_PAYLOAD_JSON');
    expect(bad('json', Uint8Array.from([0xff, 0xfe])).code).toBe('MEDGW_ERR_PAYLOAD_JSON');
  });

  it('CBOR and protobuf: undecodable bytes and schema errors carry their own code', () => {
    expect(bad('cbor', Uint8Array.from([0xff])).code).toBe('MEDGW_ERR_PAYLOAD_CBOR');
    expect(
      bad(
        'cbor',
        cborEncode({
          kind: 'spo2',
          time: '2026-11-22T08:15:00Z',
          values: { spo2: { value: '97', unit: '%' } },
        }),
      ).message,
    ).toContain('"values.spo2.value"');
    expect(
      bad(
        'cbor',
        cborEncode({
          kind: 'spo2',
          time: '2026-11-22T08:15:00Z',
          values: { spo2: { value: 97, unit: '%' } },
          foo: 1,
        }),
      ).message,
    ).toBe('cbor payload: unknown field "foo"');
    expect(bad('protobuf', Uint8Array.from([0x0a, 0x10]))).toMatchObject({
      code: 'MEDGW_ERR_PAYLOAD_PROTOBUF',
    });
    expect(bad('protobuf', new Uint8Array()).message).toContain('"kind"');
  });

  it('payloads above 16 KiB are refused before parsing', () => {
    for (const encoding of PAYLOAD_ENCODINGS) {
      expect(bad(encoding, new Uint8Array(MAX_PAYLOAD_BYTES + 1)).code).toBe('MEDGW_ERR_PAYLOAD_TOO_LARGE');
    }
  });

  it('arbitrary bytes never throw anything but a coded error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PAYLOAD_ENCODINGS),
        fc.uint8Array({ maxLength: 200 }),
        (encoding, bytes) => {
          try {
            decodePayload(encoding, bytes);
          } catch (e) {
            expect(isMedgwError(e)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('arbitrary JSON values never throw anything but a coded error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          decodePayload('json', utf8(JSON.stringify(v)));
        } catch (e) {
          expect(isMedgwError(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
