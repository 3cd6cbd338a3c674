/**
 * Properties of decode + normalization: arbitrary bytes through every codec, with and without every
 * driver's quirks, never throw anything but a coded error; whatever comes out is well-formed (finite
 * values in the canonical unit, a quarantine code from the catalogue).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../drivers/codecs/index.ts';
import { decodeFrame } from '../drivers/decode.ts';
import { DEFINITIONS } from '../drivers/definitions/index.ts';
import { decodePayload, encodePayload, type Reading } from '../drivers/mqtt/index.ts';
import { MEALS } from '../drivers/mqtt/schema.ts';
import { normalize } from '../drivers/normalize/index.ts';
import type { Observation } from '../drivers/types.ts';
import { VOCABULARY } from '../drivers/vocabulary.ts';
import { ERROR_CATALOGUE, isMedgwError } from '../kernel/errors.ts';

function wellFormed(o: Observation): void {
  const v = VOCABULARY[o.kind];
  expect(o.loinc).toBe(v.loinc);
  // The vocabulary's MDC code, or none for a kind IEEE 11073-10101 names no term for (kept local).
  expect(o.mdc).toMatch(v.mdc === '' ? /^$/ : /^\d+$/);
  if (o.value !== undefined) {
    expect(Number.isFinite(o.value)).toBe(true);
    expect(o.unit).toBe(v.unit);
    expect(o.decimals).toBeGreaterThanOrEqual(0);
    expect(o.dataAbsentReason).toBeUndefined();
  }
  if (o.quarantine) expect(Object.keys(ERROR_CATALOGUE)).toContain(o.quarantine.code);
  for (const c of o.components ?? []) wellFormed(c);
}

const drivers = [undefined, ...DEFINITIONS.filter((d) => d.quirks.length > 0).map((d) => d.id)];

describe('decode + normalize properties', () => {
  it('arbitrary bytes: a coded error or well-formed observations, for every codec and driver', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CODECS.map((c) => c.uuid)),
        fc.constantFrom(...drivers),
        fc.uint8Array({ maxLength: 24 }),
        (uuid, driver, bytes) => {
          try {
            const r = decodeFrame(uuid, bytes, driver, { nowMs: Date.UTC(2026, 10, 23) });
            for (const o of r.observations) wellFormed(o);
          } catch (e) {
            if (!isMedgwError(e)) throw e;
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  const quantity = (units: readonly string[], min: number, max: number) =>
    fc.record(
      {
        value: fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
        unit: fc.constantFrom(...units),
        decimals: fc.integer({ min: 0, max: 3 }),
      },
      { requiredKeys: ['value', 'unit'] },
    );
  const time = fc
    .date({
      min: new Date('2001-01-01T00:00:00Z'),
      max: new Date('2030-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const reading: fc.Arbitrary<Reading> = fc.oneof(
    fc.record({
      kind: fc.constant('glucose' as const),
      time,
      seq: fc.nat({ max: 0xffffffff }),
      meal: fc.constantFrom(...MEALS),
      values: fc.record({ glucose: quantity(['mg/dL', 'mmol/L'], 0, 1000) }),
    }),
    fc.record({
      kind: fc.constant('body-weight' as const),
      time,
      values: fc.record({ weight: quantity(['kg', '[lb_av]'], 0, 500) }),
    }),
    fc.record({
      kind: fc.constant('blood-pressure' as const),
      time,
      values: fc.record(
        {
          systolic: quantity(['mm[Hg]', 'kPa'], 0, 400),
          diastolic: quantity(['mm[Hg]', 'kPa'], 0, 300),
          pulse: quantity(['/min'], 0, 300),
        },
        { requiredKeys: ['systolic', 'diastolic'] },
      ),
    }),
    fc.record({
      kind: fc.constant('body-temperature' as const),
      time,
      values: fc.record({ temperature: quantity(['Cel', '[degF]'], -50, 120) }),
    }),
    fc.record({
      kind: fc.constant('spo2' as const),
      time,
      values: fc.record(
        { spo2: quantity(['%'], 0, 100), pulse: quantity(['/min'], 0, 300) },
        { requiredKeys: ['spo2'] },
      ),
    }),
  ) as fc.Arbitrary<Reading>;

  it('random MQTT readings survive every encoding and normalize to well-formed observations', () => {
    fc.assert(
      fc.property(
        reading,
        fc.constantFrom('json' as const, 'cbor' as const, 'protobuf' as const),
        (r, encoding) => {
          const { measurement } = decodePayload(encoding, encodePayload(encoding, r));
          const obs = normalize(measurement);
          expect(obs.length).toBeGreaterThan(0);
          for (const o of obs) {
            wellFormed(o);
            expect(o.time.utc).toBe(new Date(r.time).toISOString());
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
